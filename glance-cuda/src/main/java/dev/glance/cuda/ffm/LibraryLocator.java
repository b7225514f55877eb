package dev.glance.cuda.ffm;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds the CUDA libraries at run time. Directories are tried in this order: those named by
 * {@code GLANCE_CUDA_LIB_PATH} (colon-separated), the {@code nvidia/*}{@code /lib} folders of
 * Python site-packages (where the PyTorch wheels put cuBLAS and NVRTC: {@code nvidia/cu13/lib}
 * for CUDA 13, {@code nvidia/cublas/lib} and {@code nvidia/cuda_nvrtc/lib} for CUDA 12), then
 * {@code CUDA_HOME}/{@code CUDA_PATH} and {@code /usr/local/cuda*}; last, the bare soname through
 * the dynamic loader's own search (LD_LIBRARY_PATH, ld.so.cache), which is where the driver's
 * libcuda.so.1 normally lives. Newer sonames are tried before older ones in each place.
 */
public final class LibraryLocator {
  /** The driver: one soname across CUDA 12 and 13. */
  public static final List<String> DRIVER = List.of("libcuda.so.1");
  public static final List<String> CUBLAS_LT = List.of("libcublasLt.so.13", "libcublasLt.so.12");
  public static final List<String> NVRTC = List.of("libnvrtc.so.13", "libnvrtc.so.12");
  /**
   * NVRTC dlopens its builtins library by bare name at compile time, which fails unless its
   * directory is on LD_LIBRARY_PATH; loading it first from NVRTC's own directory makes the
   * loader reuse it (it matches loaded libraries by soname).
   */
  public static final String NVRTC_COMPANIONS = "libnvrtc-builtins.so.[0-9]*";

  private final List<Path> directories;
  private final boolean loaderSearch;

  /**
   * Looks in {@code directories}, then (when {@code loaderSearch}) by bare soname through the
   * dynamic loader.
   */
  public LibraryLocator(List<Path> directories, boolean loaderSearch) {
    this.directories = List.copyOf(directories);
    this.loaderSearch = loaderSearch;
  }

  /** The search path built from this process's environment and the usual install places. */
  public static LibraryLocator fromEnvironment() {
    return new LibraryLocator(searchDirectories(System.getenv(), Path.of(System.getProperty("user.home", "/root"))),
        true);
  }

  public List<Path> directories() {
    return directories;
  }

  /** Directories to try, in order, for the given environment; only existing ones are kept. */
  static List<Path> searchDirectories(Map<String, String> env, Path home) {
    Set<Path> dirs = new LinkedHashSet<>();
    String explicit = env.get("GLANCE_CUDA_LIB_PATH");
    if (explicit != null) {
      for (String part : explicit.split(":")) {
        if (!part.isBlank()) {
          dirs.add(Path.of(part.trim()));
        }
      }
    }
    for (Path site : sitePackages(env, home)) {
      dirs.addAll(wheelLibDirs(site));
    }
    for (String var : List.of("CUDA_HOME", "CUDA_PATH")) {
      String root = env.get(var);
      if (root != null && !root.isBlank()) {
        dirs.add(Path.of(root, "lib64"));
        dirs.add(Path.of(root, "lib"));
      }
    }
    dirs.add(Path.of("/usr/local/cuda/lib64"));
    dirs.addAll(glob(Path.of("/usr/local"), "cuda-*", "lib64"));
    List<Path> existing = new ArrayList<>();
    for (Path d : dirs) {
      if (Files.isDirectory(d)) {
        existing.add(d.toAbsolutePath().normalize());
      }
    }
    return existing;
  }

  /** site-packages and dist-packages folders of virtualenvs, conda, pyenv, user and system Pythons. */
  static List<Path> sitePackages(Map<String, String> env, Path home) {
    List<Path> roots = new ArrayList<>();
    for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
      String v = env.get(var);
      if (v != null && !v.isBlank()) {
        roots.add(Path.of(v));
      }
    }
    roots.add(home.resolve(".local"));
    roots.add(Path.of("/usr/local"));
    roots.add(Path.of("/usr"));
    roots.add(Path.of("/opt/conda"));
    roots.addAll(glob(home.resolve(".pyenv/versions"), "*", ""));
    List<Path> sites = new ArrayList<>();
    for (Path root : roots) {
      for (Path lib : glob(root.resolve("lib"), "python3*", "")) {
        for (String kind : List.of("site-packages", "dist-packages")) {
          Path p = lib.resolve(kind);
          if (Files.isDirectory(p)) {
            sites.add(p);
          }
        }
      }
    }
    Path debian = Path.of("/usr/lib/python3/dist-packages");
    if (Files.isDirectory(debian)) {
      sites.add(debian);
    }
    return sites;
  }

  /** site/nvidia/NAME/lib for every NAME: the layout of NVIDIA's pip wheels. */
  static List<Path> wheelLibDirs(Path site) {
    return glob(site.resolve("nvidia"), "*", "lib");
  }

  private static List<Path> glob(Path dir, String pattern, String child) {
    List<Path> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, pattern)) {
      for (Path p : s) {
        Path c = child.isEmpty() ? p : p.resolve(child);
        if (Files.isDirectory(c)) {
          out.add(c);
        }
      }
    } catch (IOException e) {
      return out;
    }
    out.sort(null);
    return out;
  }

  /**
   * Opens the first of {@code sonames} found, trying each directory and then the loader's own
   * search. The library stays loaded for the life of {@code arena}.
   */
  public LibraryLoad open(String what, List<String> sonames, Arena arena) {
    return open(what, sonames, null, arena);
  }

  /**
   * As {@link #open(String, List, Arena)}, first loading the files matching {@code companions}
   * (a glob, may be null) from the directory where the library is found.
   */
  public LibraryLoad open(String what, List<String> sonames, String companions, Arena arena) {
    List<String> tried = new ArrayList<>();
    for (String soname : sonames) {
      for (Path dir : directories) {
        Path file = dir.resolve(soname);
        if (Files.exists(file)) {
          try {
            if (companions != null) {
              try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, companions)) {
                for (Path c : s) {
                  SymbolLookup.libraryLookup(c, arena);
                }
              } catch (IOException | IllegalArgumentException e) {
                tried.add(dir + "/" + companions + " (" + e.getMessage() + ")");
              }
            }
            return new LibraryLoad.Loaded(what, file.toString(), SymbolLookup.libraryLookup(file, arena));
          } catch (IllegalArgumentException e) {
            tried.add(file + " (" + e.getMessage() + ")");
          }
        }
      }
    }
    if (loaderSearch) {
      for (String soname : sonames) {
        try {
          return new LibraryLoad.Loaded(what, soname, SymbolLookup.libraryLookup(soname, arena));
        } catch (IllegalArgumentException e) {
          tried.add(soname);
        }
      }
    }
    List<String> summary = new ArrayList<>();
    summary.add(String.join("/", sonames) + " in " + (directories.isEmpty() ? "no extra directories"
        : directories.size() + " directories (" + String.join(":", directories.stream().map(Path::toString).toList()) + ")"));
    if (loaderSearch) {
      summary.add("the dynamic loader's path");
    }
    Stream.of(tried).flatMap(List::stream).filter(t -> t.contains("(")).forEach(summary::add);
    return new LibraryLoad.Missing(what, summary);
  }
}
