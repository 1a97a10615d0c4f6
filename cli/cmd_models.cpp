// pixctl models: the server's classifiers (--model), their input size,
// label count and positive label.
#include "classify.hpp"
#include "commands.hpp"
#include "output.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace pixctl {

extern const Command models_command; // defined at the end; listed in commands.cpp

namespace {

const OptionSpec models_options[] = {
    {"help", 'h', nullptr, "show this help"},
};

void print_table(const std::vector<ModelInfo> &models)
{
    std::vector<std::vector<std::string>> rows = {{"NAME", "INPUT", "LABELS", "POSITIVE"}};
    for (const ModelInfo &m : models)
        rows.push_back({printable(m.name), std::to_string(m.width) + "x" + std::to_string(m.height),
                        std::to_string(m.labels), m.positive.empty() ? "-" : printable(m.positive)});
    std::size_t width[4] = {};
    for (const auto &r : rows)
        for (std::size_t i = 0; i < 4; ++i)
            width[i] = std::max(width[i], r[i].size());
    std::string out;
    for (const auto &r : rows) {
        out += r[0] + std::string(width[0] - r[0].size() + 2, ' ');
        out += r[1] + std::string(width[1] - r[1].size() + 2, ' ');
        out += std::string(width[2] - r[2].size(), ' ') + r[2] + "  "; // numbers align right
        out += r[3] + "\n";
    }
    emit(out);
}

int run_models(Globals &g, int argc, char **argv)
{
    int first = parse_command_options(models_command, g, argc, argv, [](const OptionSpec &, const char *) {});
    if (first < 0)
        return 0;
    no_operands(models_command, argc, argv, first);

    pixproto::Client client = connect(g);
    std::vector<ModelInfo> models = list_models(client);
    if (g.json) {
        Json j;
        j.begin_array();
        for (const ModelInfo &m : models) {
            j.begin_object().key("name").string(m.name);
            j.key("width").number(m.width).key("height").number(m.height);
            j.key("labels").number(m.labels).key("positive");
            if (m.positive.empty())
                j.null();
            else
                j.string(m.positive);
            j.end_object();
        }
        j.end_array();
        emit(j.str() + "\n");
    } else if (models.empty()) {
        emit("no models (start pixd with --model NAME=PATH.onnx,labels=FILE)\n");
    } else {
        print_table(models);
    }
    return 0;
}

} // namespace

extern const Command models_command = {
    "models",
    "list the server's classification models",
    "",
    "Lists the classifiers the server loaded with --model: name, the input\n"
    "size images are scaled to, the number of labels, and the positive label\n"
    "(the one whose win counts as a yes), if any.",
    models_options,
    run_models,
};

} // namespace pixctl
