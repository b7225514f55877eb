package dev.glance.cuda.ffm;

import java.util.Map;

/**
 * Names of the CUDA driver's CUresult codes Glance is likely to meet, for messages when the
 * driver's own cuGetErrorName cannot be asked (it is asked first when the driver is loaded).
 */
public final class CuResult {
  public static final int SUCCESS = 0;
  public static final int INVALID_VALUE = 1;
  public static final int OUT_OF_MEMORY = 2;
  public static final int NOT_INITIALIZED = 3;
  public static final int NO_DEVICE = 100;
  public static final int INVALID_DEVICE = 101;

  private static final Map<Integer, String> NAMES = Map.ofEntries(
      Map.entry(0, "CUDA_SUCCESS"),
      Map.entry(1, "CUDA_ERROR_INVALID_VALUE"),
      Map.entry(2, "CUDA_ERROR_OUT_OF_MEMORY"),
      Map.entry(3, "CUDA_ERROR_NOT_INITIALIZED"),
      Map.entry(4, "CUDA_ERROR_DEINITIALIZED"),
      Map.entry(34, "CUDA_ERROR_STUB_LIBRARY"),
      Map.entry(46, "CUDA_ERROR_DEVICE_UNAVAILABLE"),
      Map.entry(100, "CUDA_ERROR_NO_DEVICE"),
      Map.entry(101, "CUDA_ERROR_INVALID_DEVICE"),
      Map.entry(200, "CUDA_ERROR_INVALID_IMAGE"),
      Map.entry(201, "CUDA_ERROR_INVALID_CONTEXT"),
      Map.entry(209, "CUDA_ERROR_NO_BINARY_FOR_GPU"),
      Map.entry(218, "CUDA_ERROR_INVALID_PTX"),
      Map.entry(222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"),
      Map.entry(400, "CUDA_ERROR_INVALID_HANDLE"),
      Map.entry(500, "CUDA_ERROR_NOT_FOUND"),
      Map.entry(700, "CUDA_ERROR_ILLEGAL_ADDRESS"),
      Map.entry(701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"),
      Map.entry(702, "CUDA_ERROR_LAUNCH_TIMEOUT"),
      Map.entry(716, "CUDA_ERROR_MISALIGNED_ADDRESS"),
      Map.entry(719, "CUDA_ERROR_LAUNCH_FAILED"),
      Map.entry(801, "CUDA_ERROR_NOT_SUPPORTED"),
      Map.entry(803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH"),
      Map.entry(804, "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE"),
      Map.entry(900, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"),
      Map.entry(999, "CUDA_ERROR_UNKNOWN"));

  private CuResult() {}

  /** The symbolic name of a CUresult, or CUDA_ERROR_&lt;code&gt; for codes not in the table. */
  public static String name(int code) {
    return NAMES.getOrDefault(code, "CUDA_ERROR_" + code);
  }
}
