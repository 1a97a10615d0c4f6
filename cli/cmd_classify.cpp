// pixctl classify FILE...|--stored NAME|--camera NAME --model M [--top K]:
// the top labels of an image by one of the server's models.
#include "classify.hpp"
#include "commands.hpp"
#include "localfile.hpp"
#include "output.hpp"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace pixctl {

extern const Command classify_command; // defined at the end; listed in commands.cpp

namespace {

const OptionSpec classify_options[] = {
    {"model", 'm', "M", "the model to use (see `pixctl models`); required"},
    {"top", 'k', "K", "how many labels to show, best first (1 to 100, default 5)"},
    {"stored", 's', "NAME", "classify the stored image NAME instead of local files"},
    {"camera", 'c', "NAME", "classify the next picture of camera NAME"},
    {"help", 'h', nullptr, "show this help"},
};

std::string score_text(double s)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", s);
    return buf;
}

std::string ms_text(uint64_t us) { return format_ms(static_cast<double>(us) / 1000.0); }

void print_text(const std::string &what, const Classified &r, bool several)
{
    std::string out;
    if (several)
        out += printable(what) + ":\n";
    std::size_t w = 0;
    for (const ClassScore &c : r.top)
        w = std::max(w, printable(c.label).size());
    for (const ClassScore &c : r.top) {
        std::string l = printable(c.label);
        out += (several ? "  " : "") + l + std::string(w - l.size() + 2, ' ') + score_text(c.score) + "\n";
    }
    if (r.positive >= 0)
        out += std::string(several ? "  " : "") + "positive: " + (r.positive ? "yes" : "no") + "\n";
    out += std::string(several ? "  " : "") + "(" + printable(r.in_type) + " " + std::to_string(r.in_width) + "x" +
           std::to_string(r.in_height) + ", preprocessing " + ms_text(r.preprocess_us) + " ms, inference " +
           ms_text(r.inference_us) + " ms)\n";
    emit(out);
}

void add_json(Json &j, const std::string &key, const std::string &what, const Classified &r)
{
    j.begin_object().key(key).string(what).key("model").string(r.model);
    j.key("top").begin_array();
    for (const ClassScore &c : r.top)
        j.begin_object().key("label").string(c.label).key("score").number(c.score, 6).end_object();
    j.end_array();
    if (r.positive >= 0)
        j.key("positive").boolean(r.positive != 0);
    j.key("input_bytes").number(r.in_bytes).key("input_type").string(r.in_type);
    j.key("input_width").number(r.in_width).key("input_height").number(r.in_height);
    j.key("queue_us").number(r.queue_us).key("preprocess_us").number(r.preprocess_us);
    j.key("inference_us").number(r.inference_us);
    j.end_object();
}

int run_classify(Globals &g, int argc, char **argv)
{
    const std::string hint = "pixctl classify --help";
    std::string model, stored, camera;
    uint64_t top = 5;
    int first = parse_command_options(classify_command, g, argc, argv, [&](const OptionSpec &o, const char *arg) {
        if (std::strcmp(o.name, "model") == 0)
            model = arg;
        else if (std::strcmp(o.name, "top") == 0)
            top = static_cast<uint64_t>(parse_integer("--top", arg, 1, 100, hint));
        else if (std::strcmp(o.name, "stored") == 0)
            stored = arg;
        else if (std::strcmp(o.name, "camera") == 0)
            camera = arg;
    });
    if (first < 0)
        return 0;
    if (model.empty())
        throw UsageError("classify wants --model M (`pixctl models` lists them)", hint);
    std::vector<ClassifyInput> inputs;
    if (!stored.empty())
        inputs.push_back({ClassifyInput::Kind::stored, stored});
    if (!camera.empty())
        inputs.push_back({ClassifyInput::Kind::camera, camera});
    for (int i = first; i < argc; ++i)
        inputs.push_back({ClassifyInput::Kind::file, argv[i]});
    if (inputs.empty())
        throw UsageError("classify wants image FILEs, --stored NAME or --camera NAME", hint);
    if (inputs.size() > 1 && (!stored.empty() || !camera.empty()))
        throw UsageError("give image FILEs, --stored NAME or --camera NAME, not several of them", hint);

    pixproto::Client client = connect(g);
    Json j;
    int rc = 0;
    bool several = inputs.size() > 1;
    if (g.json && several)
        j.begin_array();
    for (const ClassifyInput &in : inputs) {
        const char *key = in.kind == ClassifyInput::Kind::file ? "file"
                          : in.kind == ClassifyInput::Kind::stored ? "stored" : "camera";
        try {
            Classified r = classify(client, in, model, top);
            if (g.json)
                add_json(j, key, in.name, r);
            else
                print_text(in.name, r, several);
        } catch (const LocalError &e) {
            std::fprintf(stderr, "pixctl: %s\n", e.what());
            rc = 1;
        } catch (const pixproto::Error &e) {
            // One image the server refused: say so and go on with the next.
            if (!client.connected() || !several)
                throw;
            std::fprintf(stderr, "pixctl: %s: %s (%s)\n", printable(in.name).c_str(), e.what(), e.name().c_str());
            rc = 1;
        }
    }
    if (g.json) {
        if (several)
            j.end_array();
        if (!j.str().empty())
            emit(j.str() + "\n");
    }
    return rc;
}

} // namespace

extern const Command classify_command = {
    "classify",
    "classify images with one of the server's models",
    "FILE...|--stored NAME|--camera NAME --model M [--top K]",
    "Sends each image FILE (JPEG, PNG, WebP or BMP), or names a stored image or\n"
    "a camera whose next picture is used, and prints the K best labels of model\n"
    "M with their scores (as the network outputs them), whether the model's\n"
    "positive label won (when it names one), and the time the server spent on\n"
    "preprocessing (decode, resize, normalise) and on inference. A file the\n"
    "server refuses is reported and the others still go; the exit status is\n"
    "then 1.",
    classify_options,
    run_classify,
};

} // namespace pixctl
