package dev.glance.cli;

import dev.glance.engine.hub.HubRepo;
import dev.glance.engine.hub.HubSettings;
import dev.glance.engine.hub.ModelPuller;
import dev.glance.engine.hub.PulledModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code glance pull}: brings a model's files from the Hugging Face Hub (or the mirror in
 * HF_ENDPOINT) into the local cache, or updates them, and prints the snapshot directory.
 */
@Command(name = "pull", mixinStandardHelpOptions = true,
    description = {"Download a model from the Hugging Face Hub (or HF_ENDPOINT) into the Hugging Face cache;"
        + " prints the snapshot directory on stdout.",
        "Environment: HF_ENDPOINT (mirror), HF_TOKEN (gated repositories), HF_HOME / HF_HUB_CACHE (cache),"
            + " HF_HUB_OFFLINE=1 (cache only)."})
final class PullCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.ParentCommand Main main;

  @Parameters(arity = "1", paramLabel = "ORG/NAME[@REV]", description = "the repository, e.g. zai-org/GLM-4.6V-Flash")
  String repository;

  @Option(names = "--revision", paramLabel = "REV", description = "branch, tag or commit (default: main)")
  String revision;

  @Option(names = "--cache-dir", paramLabel = "DIR", description = "cache directory (default: HF_HUB_CACHE, else HF_HOME/hub)")
  Path cacheDir;

  @Option(names = "--parallel", paramLabel = "N", defaultValue = "4", description = "files downloaded at once (default ${DEFAULT-VALUE})")
  int parallel;

  @Option(names = "--verbose", description = "stack traces on errors")
  boolean verbose;

  @Override
  public Integer call() {
    HubRepo repo = HubRepo.parse(repository).orElseThrow(() -> new CommandLine.ParameterException(
        spec.commandLine(), "'" + repository + "' is not a Hugging Face repository id (ORG/NAME or ORG/NAME@REV)"));
    if (revision != null) {
      if (repository.contains("@") && !repo.revision().equals(revision)) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "two revisions given: @" + repo.revision() + " and --revision " + revision);
      }
      repo = repo.withRevision(revision);
    }
    if (parallel < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--parallel must be at least 1, got " + parallel);
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    HubSettings settings = main.hubSettings().withParallelDownloads(parallel);
    if (cacheDir != null) {
      settings = settings.withCacheDir(cacheDir);
    }
    PulledModel model = new ModelPuller(settings, main.progress(err)).pull(repo);
    if (settings.offline()) {
      err.println("offline (HF_HUB_OFFLINE): " + repo + " is in the cache");
      err.flush();
    }
    out.println(model.dir());
    out.flush();
    return 0;
  }
}
