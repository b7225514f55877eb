package dev.glance.cuda.ffm;

/**
 * A CUDA, cuBLASLt or NVRTC call that returned an error: names the call, the library's error name
 * (for example {@code CUDA_ERROR_OUT_OF_MEMORY}) and the numeric code, so a failure on a machine
 * nobody can log into still says what went wrong where.
 */
public final class CudaException extends RuntimeException {
  private final String call;
  private final int code;
  private final String errorName;

  public CudaException(String call, int code, String errorName, String detail) {
    super(call + " failed: " + errorName + " (" + code + ")" + (detail == null || detail.isEmpty() ? "" : ": " + detail));
    this.call = call;
    this.code = code;
    this.errorName = errorName;
  }

  public String call() {
    return call;
  }

  public int code() {
    return code;
  }

  public String errorName() {
    return errorName;
  }
}
