# Writes version_info.cc with the git commit, tree state and build date.
# The file is only rewritten when the commit or tree state changes, so builds stay incremental.
execute_process(COMMAND git -C ${SOURCE_DIR} rev-parse HEAD
  OUTPUT_VARIABLE GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR GIT_COMMIT STREQUAL "")
  set(GIT_COMMIT "unknown")
endif()
execute_process(COMMAND git -C ${SOURCE_DIR} status --porcelain --untracked-files=no
  OUTPUT_VARIABLE GIT_STATUS OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  set(GIT_TREE_STATE "unknown")
elseif(GIT_STATUS STREQUAL "")
  set(GIT_TREE_STATE "clean")
else()
  set(GIT_TREE_STATE "dirty")
endif()

set(KEY "${KPP_VERSION} ${GIT_COMMIT} ${GIT_TREE_STATE} ${COMPILER}")
if(EXISTS ${OUTPUT})
  file(STRINGS ${OUTPUT} OLD_KEY LIMIT_COUNT 1)
  if(OLD_KEY STREQUAL "// ${KEY}")
    return()
  endif()
endif()
string(TIMESTAMP BUILD_DATE "%Y-%m-%dT%H:%M:%SZ" UTC)
file(WRITE ${OUTPUT}.tmp "// ${KEY}
#include \"base/version.h\"

namespace kpp {

const BuildInfo& GetBuildInfo() {
  static const BuildInfo info{
      .version = \"${KPP_VERSION}\",
      .git_commit = \"${GIT_COMMIT}\",
      .git_tree_state = \"${GIT_TREE_STATE}\",
      .build_date = \"${BUILD_DATE}\",
      .compiler = \"${COMPILER}\",
  };
  return info;
}

}  // namespace kpp
")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
