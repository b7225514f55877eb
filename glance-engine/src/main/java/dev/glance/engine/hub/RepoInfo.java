package dev.glance.engine.hub;

import java.util.Map;

/**
 * A repository revision as the hub's API describes it: the commit the revision resolves to and
 * the files of that commit, by path.
 *
 * @param commit the 40-hex commit
 * @param files every file of the commit, by path
 */
public record RepoInfo(String commit, Map<String, RepoFile> files) {
  public RepoInfo {
    files = Map.copyOf(files);
  }
}
