#include "classify.hpp"

#include "localfile.hpp"

#include <algorithm>
#include <cstdlib>

namespace pixctl {

namespace {

void expect(const pixproto::Frame &f, uint8_t type, const char *during)
{
    if (f.type != type)
        throw pixproto::Error(PIXPROTO_EBADTYPE, std::string("expected ") + pixproto::type_name(type) + " " +
                                                     during + ", got " + f.type_name(),
                              f.id);
}

ModelInfo parse_model(const pixproto::Field &outer)
{
    ModelInfo m;
    for (const pixproto::Field &f : pixproto::FieldReader(outer.data(), outer.size())) {
        switch (f.tag()) {
        case PIXPROTO_TAG_NAME: m.name = f.str(); break;
        case PIXPROTO_TAG_WIDTH: m.width = f.u64(); break;
        case PIXPROTO_TAG_HEIGHT: m.height = f.u64(); break;
        case PIXPROTO_TAG_LABELS: m.labels = f.u64(); break;
        case PIXPROTO_TAG_POSITIVE: m.positive = f.str(); break;
        default: break; // a newer server's field
        }
    }
    return m;
}

ClassScore parse_class(const pixproto::Field &outer)
{
    ClassScore c;
    for (const pixproto::Field &f : pixproto::FieldReader(outer.data(), outer.size())) {
        if (f.tag() == PIXPROTO_TAG_LABEL)
            c.label = f.str();
        else if (f.tag() == PIXPROTO_TAG_SCORE)
            c.score = std::strtod(f.str().c_str(), nullptr);
    }
    return c;
}

Classified parse_classified(const pixproto::Frame &reply)
{
    Classified r;
    for (const pixproto::Field &f : pixproto::FieldReader(reply)) {
        switch (f.tag()) {
        case PIXPROTO_TAG_MODEL: r.model = f.str(); break;
        case PIXPROTO_TAG_CLASS: r.top.push_back(parse_class(f)); break;
        case PIXPROTO_TAG_POSITIVE: r.positive = f.u64() != 0; break;
        case PIXPROTO_TAG_IN_BYTES: r.in_bytes = f.u64(); break;
        case PIXPROTO_TAG_IN_WIDTH: r.in_width = f.u64(); break;
        case PIXPROTO_TAG_IN_HEIGHT: r.in_height = f.u64(); break;
        case PIXPROTO_TAG_IN_TYPE: r.in_type = f.str(); break;
        case PIXPROTO_TAG_QUEUE_US: r.queue_us = f.u64(); break;
        case PIXPROTO_TAG_PREPROCESS_US: r.preprocess_us = f.u64(); break;
        case PIXPROTO_TAG_INFERENCE_US: r.inference_us = f.u64(); break;
        default: break;
        }
    }
    return r;
}

} // namespace

std::vector<ModelInfo> list_models(pixproto::Client &c)
{
    pixproto::Frame reply = c.request(PIXPROTO_T_MODELS);
    expect(reply, PIXPROTO_T_MODELS_REPLY, "in answer to MODELS");
    std::vector<ModelInfo> models;
    for (const pixproto::Field &f : pixproto::FieldReader(reply))
        if (f.tag() == PIXPROTO_TAG_MODEL_INFO)
            models.push_back(parse_model(f));
    return models;
}

Classified classify(pixproto::Client &c, const ClassifyInput &in, const std::string &model,
                    uint64_t top)
{
    pixproto::Fields b;
    b.str(PIXPROTO_TAG_MODEL, model);
    b.u64(PIXPROTO_TAG_TOP, top);
    uint32_t id;
    if (in.kind == ClassifyInput::Kind::stored) {
        b.str(PIXPROTO_TAG_SOURCE, in.name);
        id = c.send(PIXPROTO_T_CLASSIFY, b.data(), b.size());
    } else if (in.kind == ClassifyInput::Kind::camera) {
        b.str(PIXPROTO_TAG_CAMERA, in.name);
        id = c.send(PIXPROTO_T_CLASSIFY, b.data(), b.size());
    } else {
        InputFile f(in.name);
        uint64_t left = f.size();
        b.u64(PIXPROTO_TAG_SIZE, left);
        id = c.send(PIXPROTO_T_CLASSIFY, b.data(), b.size(), PIXPROTO_F_MORE);
        std::vector<uint8_t> buf(PIXPROTO_CHUNK);
        try {
            while (left > 0) {
                std::size_t n = f.read(buf.data(), static_cast<std::size_t>(std::min<uint64_t>(buf.size(), left)));
                if (n == 0)
                    throw LocalError(in.name + " got shorter while being sent");
                c.send_frame(PIXPROTO_T_DATA, id, buf.data(), n, PIXPROTO_F_MORE);
                left -= n;
                // An early refusal (BUSY, TOOBIG) throws from here.
                if (std::optional<pixproto::Frame> early = c.try_receive(id))
                    throw pixproto::Error(PIXPROTO_EBADFRAME, "the server answered " + early->type_name() +
                                                                  " before it had the whole image", id);
            }
            c.send_frame(PIXPROTO_T_END, id, nullptr, 0, 0);
        } catch (const LocalError &) {
            c.cancel(id);
            throw;
        }
    }
    pixproto::Frame reply = c.receive(id);
    c.finish(id);
    expect(reply, PIXPROTO_T_CLASSIFIED, "in answer to CLASSIFY");
    return parse_classified(reply);
}

} // namespace pixctl
