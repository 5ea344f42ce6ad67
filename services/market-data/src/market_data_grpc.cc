#include "market_data_grpc.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "tickmesh/runtime/log.h"

namespace tickmesh::market_data {
namespace {

using tickmesh::v1::MarketEventBatch;
using tickmesh::v1::PublishAck;

// A write reactor that ends at once with an error (bad Subscribe request).
class RejectedWriter : public grpc::ServerWriteReactor<MarketEventBatch> {
 public:
  explicit RejectedWriter(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

// Reads batches and ingests each as it arrives; see the header for the contract.
class PublishReader : public grpc::ServerReadReactor<MarketEventBatch> {
 public:
  PublishReader(MarketData* md, PublishAck* ack) : md_(md), ack_(ack) { StartRead(&batch_); }

  void OnReadDone(bool ok) override {
    if (!ok) {  // Client half-closed (or the call broke): report what was applied.
      Finish(grpc::Status::OK);
      return;
    }
    absl::Status s = md_->Ingest(batch_, "publish");
    if (!s.ok()) {
      runtime::LogDebug("publish batch rejected",
                        {{"batch", batches_}, {"error", std::string(s.message())}});
      Finish(grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                          absl::StrCat("batch ", batches_, " ", s.message())));
      return;
    }
    ++batches_;
    ack_->set_batches_accepted(ack_->batches_accepted() + 1);
    ack_->set_events_accepted(ack_->events_accepted() +
                              static_cast<uint64_t>(batch_.events_size()));
    batch_.Clear();
    StartRead(&batch_);
  }
  void OnDone() override { delete this; }

 private:
  MarketData* md_;
  PublishAck* ack_;
  MarketEventBatch batch_;
  uint64_t batches_ = 0;
};

}  // namespace

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::ServerWriteReactor<MarketEventBatch>* MarketDataGrpc::Subscribe(
    grpc::CallbackServerContext* ctx, const tickmesh::v1::SubscribeRequest* request) {
  auto filter = SubscriberFilter::FromRequest(*request);
  if (!filter.ok()) return new RejectedWriter(ToGrpc(filter.status()));
  // Lets clients tell an established stream from a failed call right after the headers.
  ctx->AddInitialMetadata(std::string(kStreamMetadataKey), "subscribed");
  return md_->Subscribe(*std::move(filter));
}

grpc::ServerReadReactor<MarketEventBatch>* MarketDataGrpc::Publish(grpc::CallbackServerContext* ctx,
                                                                   PublishAck* ack) {
  return new PublishReader(md_, ack);
}

grpc::ServerUnaryReactor* MarketDataGrpc::GetBook(grpc::CallbackServerContext* ctx,
                                                  const tickmesh::v1::GetBookRequest* request,
                                                  tickmesh::v1::GetBookResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto book = md_->GetBook(*request);
  if (book.ok()) *response = *std::move(book);
  reactor->Finish(ToGrpc(book.status()));
  return reactor;
}

grpc::ServerUnaryReactor* MarketDataGrpc::GetCandles(grpc::CallbackServerContext* ctx,
                                                     const tickmesh::v1::GetCandlesRequest* request,
                                                     tickmesh::v1::GetCandlesResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto candles = md_->GetCandles(*request);
  if (candles.ok()) *response = *std::move(candles);
  reactor->Finish(ToGrpc(candles.status()));
  return reactor;
}

}  // namespace tickmesh::market_data
