#include "base/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace kpp {
namespace {

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDirectory("kpp-files-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
  }
  void TearDown() override { RemoveAll(dir_); }
  std::string dir_;
};

TEST_F(FilesTest, AtomicWriteReplacesContentWithMode) {
  const std::string path = dir_ + "/file";
  ASSERT_TRUE(WriteFileAtomic(path, "first", 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "second", 0600).ok());
  auto content = ReadFile(path);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "second");
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temp files are left behind.
  EXPECT_FALSE(PathExists(path + ".tmp-" + std::to_string(getpid())));
}

TEST_F(FilesTest, ReadingMissingFileIsNotFound) {
  auto content = ReadFile(dir_ + "/missing");
  ASSERT_FALSE(content.ok());
  EXPECT_EQ(content.error().code(), ErrorCode::kNotFound);
}

TEST_F(FilesTest, EnsureWritableDirectoryCreatesParents) {
  const std::string nested = dir_ + "/a/b/c";
  ASSERT_TRUE(EnsureWritableDirectory(nested, 0700).ok());
  struct stat st {};
  ASSERT_EQ(stat(nested.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(FilesTest, EnsureWritableDirectoryNamesTheProblem) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/plain", "x", 0644).ok());
  auto status = EnsureWritableDirectory(dir_ + "/plain/sub", 0700);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find(dir_ + "/plain/sub"), std::string::npos)
      << status.error().message();
  EXPECT_NE(status.error().message().find("Not a directory"), std::string::npos)
      << status.error().message();
}

}  // namespace
}  // namespace kpp
