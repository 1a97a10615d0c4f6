// The pipeline behind `pixctl resize`: the jobs, what every request asks
// for, and the machinery that keeps several RESIZE requests in flight on
// one connection, sends an image again after BUSY, writes each result to
// PATH.part and renames it at its END, and prints the statistics in the
// order of the sources (cmd_resize.cpp parses the options).
#ifndef PIXCTL_RESIZE_PIPELINE_HPP
#define PIXCTL_RESIZE_PIPELINE_HPP

#include "localfile.hpp"

#include <pixproto_client.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pixctl::resize {

using Clock = std::chrono::steady_clock;

enum class Format { jpeg, png, webp };

const char *format_name(Format f);

// What the RESIZED reply says.
struct Stats {
    uint64_t in_bytes = 0, out_bytes = 0;
    uint64_t in_width = 0, in_height = 0, out_width = 0, out_height = 0;
    uint64_t queue_us = 0, process_us = 0;
    std::string scale, in_type;
};

// What every request asks for; the source and STORE_AS are per job.
struct Settings {
    std::optional<uint64_t> width, height, quality;
    std::string mode, sharpen;
    std::optional<Format> format;
    bool enlarge = false, progressive = false, precise = false, force = false;
    std::optional<std::string> store_as, output;
    long jobs = 4;

    Format out_format() const { return format.value_or(Format::jpeg); }
};

struct Job {
    std::string path;   // a local FILE, or
    std::string stored; // the name of a stored image
    std::string dest;   // where the result goes: a path, "-", or "" with --store-as

    enum class State { ready, sending, waiting, receiving, done, failed } state = State::ready;
    uint32_t id = 0;
    int busy_alone = 0; // BUSY answers while none of ours was in flight
    Clock::time_point retry_at{};
    std::unique_ptr<OutputFile> out;
    uint64_t got = 0;
    std::optional<Stats> stats;
    std::optional<pixproto::Entry> entry; // with --store-as
    std::string code, message;            // why it failed

    std::string label() const { return stored.empty() ? path : stored + " (stored)"; }
    bool resolved() const { return state == State::done || state == State::failed; }
    bool in_flight() const { return state == State::sending || state == State::waiting || state == State::receiving; }
};

// Sends every job not yet resolved over c, --jobs at a time, and prints
// each result as it is known (nothing but failures with json). Throws
// pixproto::Interrupted after cancelling what is in flight, and
// pixproto::ConnectionError naming the image it concerned.
void run_jobs(pixproto::Client &c, std::vector<Job> &jobs, const Settings &s, bool json);

// The results as a JSON array on standard output.
void print_json(const std::vector<Job> &jobs, const Settings &set);

} // namespace pixctl::resize

#endif
