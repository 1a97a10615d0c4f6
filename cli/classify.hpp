// What models and classify share: the classification messages of the
// native protocol (MODELS, CLASSIFY, CLASSIFIED) over a pixproto::Client.
// See pixd-protocol(7), "CLASSIFICATION".
#ifndef PIXCTL_CLASSIFY_HPP
#define PIXCTL_CLASSIFY_HPP

#include <pixproto_client.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pixctl {

// One model of MODELS_REPLY; a field the server did not send stays empty.
struct ModelInfo {
    std::string name, positive;
    uint64_t width = 0, height = 0, labels = 0;
};

// MODELS: the server's models, in --model order.
std::vector<ModelInfo> list_models(pixproto::Client &c);

struct ClassScore {
    std::string label;
    double score = 0;
};

// A CLASSIFIED reply.
struct Classified {
    std::string model, in_type;
    std::vector<ClassScore> top; // best first
    int positive = -1;           // -1: the model names no positive label
    uint64_t in_bytes = 0, in_width = 0, in_height = 0;
    uint64_t queue_us = 0, preprocess_us = 0, inference_us = 0;
};

// Where the image comes from.
struct ClassifyInput {
    enum class Kind { file, stored, camera } kind = Kind::file;
    std::string name; // a local path, a store name or a camera name
};

// CLASSIFY with model and top; a file is sent in DATA frames. Throws
// LocalError for a file that cannot be read, pixproto::Error when the
// server refuses.
Classified classify(pixproto::Client &c, const ClassifyInput &in, const std::string &model,
                    uint64_t top);

} // namespace pixctl

#endif
