// A StoreReader over a fresh SQLite store in a temporary directory, for the admission tests that
// read what the registry writes (its keys, its JSON).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "apiserver/admission/admission.h"
#include "base/files.h"
#include "storage/sqlite/sqlite_store.h"

namespace kpp::apiserver::admission {

class StoreReaderFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDirectory("kpp-admission-store-");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    auto store = storage::OpenSqliteStore({.dir = dir_, .compaction_interval = {}});
    ASSERT_TRUE(store.ok()) << store.error().message();
    store_ = std::move(store).value();
    reader_ = std::make_unique<StoreReader>(*store_);
  }
  void TearDown() override {
    reader_.reset();
    store_.reset();
    RemoveAll(dir_);
  }

  void Put(const std::string& key, const std::string& json) {
    ASSERT_TRUE(store_->Txn({{}, {storage::TxnOp::Put(key, json)}, {}}).ok()) << key;
  }

  std::string dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<StoreReader> reader_;
};

}  // namespace kpp::apiserver::admission
