package dev.glance.engine.hub;

import dev.glance.engine.GlanceException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Turns the {@code --model} a person gives into the directory the engine loads; the one place
 * every command ({@code ask}, {@code serve}) resolves models. An existing directory is used as it
 * is. {@code ORG/NAME} or {@code ORG/NAME@REVISION} is a Hugging Face repository: its cached
 * snapshot when complete (no network needed, so a server restarts the same model it ran, even
 * offline), else it is pulled on first use; offline ({@code HF_HUB_OFFLINE=1}) an uncached model is
 * an error that says how to get it. {@code glance pull} is how a cached model is updated.
 */
public final class ModelLocator {
  private final ModelPuller puller;

  public ModelLocator(HubSettings settings, DownloadProgress progress) {
    this(new ModelPuller(settings, progress));
  }

  public ModelLocator(ModelPuller puller) {
    this.puller = puller;
  }

  /** The checkpoint directory for {@code model}: a directory path or a repository id. */
  public Path locate(String model) {
    Optional<Path> dir = asDirectory(model);
    if (dir.isPresent()) {
      return dir.get();
    }
    HubRepo repo = HubRepo.parse(model).orElseThrow(() -> new GlanceException.ModelLoad(
        model + ": model directory not found (nor is it a Hugging Face repository id, ORG/NAME[@REVISION])"));
    try {
      return puller.cached(repo).orElseGet(() -> puller.pull(repo).dir());
    } catch (GlanceException.Download e) {
      if (e.reason() != GlanceException.Download.Reason.NOT_FOUND) {
        throw e;
      }
      // "models/glm" may have been meant as a relative directory: say that none exists either.
      throw new GlanceException.Download(e.reason(), e.getMessage() + "; nor is there a model directory "
          + Path.of(model).toAbsolutePath(), e);
    }
  }

  private static Optional<Path> asDirectory(String model) {
    try {
      Path p = Path.of(model);
      return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
    } catch (InvalidPathException e) {
      return Optional.empty();
    }
  }
}
