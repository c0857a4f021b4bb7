// The `segtune ...` commands README.md shows, for tests that run or check each one.
//
// Block commands: lines starting with "segtune " inside ```sh fenced blocks (runnable, in order; a
// trailing "# comment" is dropped). Inline commands: `segtune ...` code spans in the prose and tables
// (synopses that must match a block command, see CoveredBy).
#pragma once

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace segtune::testing {

struct ReadmeCommand {
  std::string line;  // As written, starting with "segtune ".
  int line_number = 0;
};

struct ReadmeCommands {
  std::vector<ReadmeCommand> block;
  std::vector<ReadmeCommand> inline_spans;
};

// Drops a shell comment that starts outside quotes after whitespace.
inline std::string WithoutComment(const std::string& line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '#' && i > 0 && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
      std::string kept = line.substr(0, i);
      kept.erase(kept.find_last_not_of(" \t") + 1);
      return kept;
    }
  }
  return line;
}

inline ReadmeCommands ReadReadmeCommands() {
  ReadmeCommands commands;
  std::ifstream in(SourcePath("README.md"));
  bool in_block = false, runnable_block = false;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.rfind("```", 0) == 0) {
      runnable_block = !in_block && line.substr(3) == "sh";
      in_block = !in_block;
      continue;
    }
    if (in_block) {
      if (runnable_block && line.rfind("segtune ", 0) == 0) commands.block.push_back({WithoutComment(line), number});
      continue;
    }
    for (size_t open = line.find('`'); open != std::string::npos;) {
      const size_t close = line.find('`', open + 1);
      if (close == std::string::npos) break;
      const std::string span = line.substr(open + 1, close - open - 1);
      if (span.rfind("segtune ", 0) == 0) commands.inline_spans.push_back({span, number});
      open = line.find('`', close + 1);
    }
  }
  return commands;
}

// Shell-like words: whitespace-separated, single and double quotes removed.
inline std::vector<std::string> ShellWords(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool have = false;
  char quote = 0;
  for (char c : line) {
    if (quote) {
      if (c == quote) quote = 0; else word += c;
    } else if (c == '\'' || c == '"') {
      quote = c, have = true;
    } else if (c == ' ' || c == '\t') {
      if (have) words.push_back(word), word.clear(), have = false;
    } else {
      word += c, have = true;
    }
  }
  if (have) words.push_back(word);
  return words;
}

// The words before the first option ("segtune", verb, subcommand, positionals...) and the options.
struct CommandShape {
  std::vector<std::string> leading;
  std::set<std::string> options;
};

inline CommandShape ShapeOf(const std::string& line) {
  CommandShape shape;
  bool in_options = false;
  for (const std::string& word : ShellWords(line)) {
    if (word.size() > 1 && word[0] == '-') {
      in_options = true;
      shape.options.insert(word.substr(0, word.find('=')));
    } else if (!in_options) {
      shape.leading.push_back(word);
    }
  }
  return shape;
}

// True if `synopsis` (an inline command) is covered by `command` (a block command): the synopsis's
// leading words (verb, subcommand) start the command and every option it names is used by it.
inline bool CoveredBy(const std::string& synopsis, const std::string& command) {
  const CommandShape s = ShapeOf(synopsis), c = ShapeOf(command);
  if (s.leading.size() > c.leading.size()) return false;
  for (size_t i = 0; i < s.leading.size(); ++i) {
    if (s.leading[i] != c.leading[i]) return false;
  }
  for (const std::string& option : s.options) {
    if (option != "--help" && option != "--version" && !c.options.count(option)) return false;
  }
  return true;
}

}  // namespace segtune::testing
