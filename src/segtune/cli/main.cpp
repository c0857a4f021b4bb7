// segtune: one binary, one verb per workflow step. See verb.h for how verbs register.
//
// The front end links neither LibTorch nor OpenCV (docs/architecture.md): what needs them runs in
// the plugin (plugin_loader.cpp), which applies the LibTorch side of the global options itself.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "segtune/cli/startup_environment.h"
#include "segtune/cli/skip_corrupt.h"
#include "segtune/cli/suggest.h"
#include "segtune/cli/verb.h"
#include "segtune/core/error.h"
#include "segtune/core/input_limits.h"
#include "segtune/core/interrupt_cleanup.h"
#include "segtune/core/log.h"

namespace segtune::cli {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

void PrintError(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "segtune: error: %s\n", message.c_str());
}

// The first argument that is neither an option nor an option's value: the verb the user typed.
std::string FindVerbArgument(int argc, char** argv) {
  static const std::vector<std::string> kGlobalsWithValue = {"--threads", "--device", "--max-pixels",
                                                             "--max-record-bytes"};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return "";
    if (std::find(kGlobalsWithValue.begin(), kGlobalsWithValue.end(), arg) != kGlobalsWithValue.end()) {
      ++i;
      continue;
    }
    if (arg.empty() || arg[0] == '-') continue;
    return arg;
  }
  return "";
}

// Adds "did you mean" to CLI11's message about an unexpected argument, using the options of the
// subcommand that was being parsed.
std::string ExplainParseError(const CLI::ParseError& e, CLI::App& app) {
  std::string message = e.what();
  const std::string marker = "not expected: ";
  const size_t at = message.find(marker);
  if (at == std::string::npos) return message;
  std::string option;  // The first unexpected argument that looks like an option.
  std::istringstream extras(message.substr(at + marker.size()));
  for (std::string word; extras >> word;) {
    if (word.size() > 1 && word[0] == '-') {
      option = word.substr(0, word.find('='));
      break;
    }
  }
  if (option.empty()) return message;
  CLI::App* scope = &app;
  for (CLI::App* sub = &app; sub != nullptr;) {
    auto parsed = sub->get_subcommands();
    scope = sub;
    sub = parsed.empty() ? nullptr : parsed.front();
  }
  std::vector<std::string> names;
  for (const CLI::App* a = scope; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* opt : a->get_options()) {
      for (const auto& n : opt->get_lnames()) names.push_back("--" + n);
      for (const auto& n : opt->get_snames()) names.push_back("-" + n);
    }
  }
  const std::string guess = ClosestMatch(option, names);
  message = "unknown option " + option;
  if (!guess.empty()) message += "; did you mean " + guess + "?";
  return message + " (see: segtune " + (scope == &app ? "" : scope->get_name() + " ") + "--help)";
}

void ApplyGlobals(int threads, const std::string& device) {
  GlobalOptions& g = MutableGlobals();
  // Every core unless the user says otherwise (libgomp here defaults to one; the plugin applies it).
  g.threads = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
  Debug("threads: " + std::to_string(g.threads) +
        (threads > 0 ? " (from --threads)" : " (all cores; set with --threads)"));
  const std::regex device_pattern("cpu|cuda(:[0-9]+)?");
  if (!std::regex_match(device, device_pattern)) {
    throw UsageError("--device " + device + ": expected cpu, cuda or cuda:N");
  }
  g.device = device;
  Debug("device: " + device);
}

int Main(int argc, char** argv) {
  CLI::App app{"segtune: transfer learning for image segmentation and detection, from a labeling "
               "tool's export to an evaluated, exported model.",
               "segtune"};
  app.set_version_flag("--version", std::string("segtune ") + SEGTUNE_VERSION);
  app.fallthrough(true);
  app.require_subcommand(0, 1);
  bool verbose = false;
  bool quiet = false;
  int threads = 0;
  std::string device = "cpu";
  app.add_flag("-v,--verbose", verbose, "Print more detail (thread count, device, timings)");
  app.add_flag("-q,--quiet", quiet, "Print only errors and warnings");
  app.add_option("--threads", threads, "CPU threads to use (default: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--device", device, "Compute device: cpu, cuda or cuda:N")->capture_default_str();
  // Limits on what one input item may make segtune allocate (docs/security.md); they apply to every verb.
  InputLimits limits;
  app.add_option("--max-pixels", limits.max_image_pixels,
                 "Largest image (width x height) any decoder accepts; checked from the header before decoding")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-record-bytes", limits.max_record_bytes,
                 "Largest TFRecord record read (bytes, or with a unit: 512M, 2G)")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();

  std::map<std::string, Runner> runners;
  std::vector<std::string> verb_names;
  for (const VerbInfo& verb : RegisteredVerbs()) {
    CLI::App* sub = app.add_subcommand(verb.name, verb.summary);
    runners[verb.name] = verb.setup(*sub);
    verb_names.push_back(verb.name);
  }

  const std::string typed = FindVerbArgument(argc, argv);
  if (!typed.empty() && runners.count(typed) == 0) {
    const std::string guess = ClosestMatch(typed, verb_names);
    PrintError("unknown verb '" + typed + "'" + (guess.empty() ? "" : "; did you mean '" + guess + "'?") +
               " (see: segtune --help)");
    return kExitUsage;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    PrintError(ExplainParseError(e, app));
    return kExitUsage;
  }

  try {
    SetVerbosity(quiet ? Verbosity::kQuiet : verbose ? Verbosity::kVerbose : Verbosity::kNormal);
    ApplyGlobals(threads, device);
    limits.skip_corrupt_records = SkipCorruptRequested();
    SetInputLimits(limits);
    auto parsed = app.get_subcommands();
    if (parsed.empty()) {
      std::cout << app.help();
      return kExitUsage;
    }
    return runners.at(parsed.front()->get_name())();
  } catch (const UsageError& e) {
    PrintError(e.what());
    return kExitUsage;
  } catch (const CLI::ParseError& e) {
    PrintError(ExplainParseError(e, app));
    return kExitUsage;
  } catch (const Error& e) {
    PrintError(e.what());
    return kExitError;
  } catch (const std::exception& e) {
    PrintError(std::string("unexpected failure: ") + e.what());
    return kExitError;
  }
}

}  // namespace
}  // namespace segtune::cli

int main(int argc, char** argv) {
  segtune::cli::ApplyStartupEnvironment(argc, argv);  // May re-execute: before anything is installed.
  segtune::InstallInterruptCleanup();  // Ctrl-C removes the temporaries of unfinished outputs.
  const int code = segtune::cli::Main(argc, argv);
#if !defined(__SANITIZE_ADDRESS__)  // Sanitizers check for leaks at exit: let them.
  if (segtune::cli::LibTorchPluginLoaded()) {
    // The verb's outputs are complete (renamed into place, files closed) when Main returns. What exit()
    // would still do is LibTorch's static teardown: deregistering thousands of operators and freeing
    // the model's memory page by page, 0.15-0.2 s of a 3 s `segtune infer` (measured, DeepLabV3).
    // So flush what was printed and end here.
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::_Exit(code);
  }
#endif
  return code;
}
