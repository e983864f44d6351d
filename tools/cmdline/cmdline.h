// Command lines as tables. A program declares its commands as data (name,
// help, options bound to variables, what to run) and one parser turns argv
// into the chosen command. The parser (cmdline.cc) is the only translation
// unit that includes CLI11: the header-only library costs tens of seconds
// per file that includes it, and every txdir program (the tool, txdir-serve,
// the benchmarks, the sample generator) shares this one parser.
//
// Contract: an option's target must outlive the parse; after Parse returns
// std::nullopt every target holds what argv gave (or its initial value when
// the option was absent). Parse never runs anything: the caller runs the
// chosen command's `run`.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace txdir::cmdline {

// Where a parsed value goes. A flag's target is bool (given or not) or int
// (how many times: -vv is 2).
using Target = std::variant<std::string*, std::vector<std::string>*, bool*, int*, int64_t*,
                            uint64_t*, double*>;

// The longest wait any seconds option accepts: one week. Larger values,
// infinities and NaN are usage errors, never an overflow.
inline constexpr double kMaxSeconds = 7 * 24 * 3600;

enum class Check {
  kNone,
  kCount,            // an integer from 1 to 2^63-1: zero, junk and overflow are refused
  kSeconds,          // seconds, finite, 0 to kMaxSeconds
  kPositiveSeconds,  // seconds, finite, above 0 to kMaxSeconds
  kRange,            // an integer from `lo` to `hi`
  kOneOf,            // one of `choices`
};

// One option or positional argument. A name without a leading dash ("DIR")
// is positional, in declaration order; "-n,--max-count" lists spellings.
struct Option {
  std::string names;
  std::string help;
  Target target;
  bool flag = false;
  bool required = false;
  bool show_default = false;  // print the initial value in --help
  bool hidden = false;        // left out of --help
  Check check = Check::kNone;
  int64_t lo = 0, hi = 0;
  std::vector<std::string> choices;
  int max_values = -1;                // a list: at most this many values (-1: any)
  int exact_values = -1;              // a list: exactly this many values (-1: any)
  std::vector<std::string> excludes;  // spellings of options not allowed with this one
  std::vector<std::string> needs;     // spellings of options this one requires

  Option& Required() { return required = true, *this; }
  Option& ShowDefault() { return show_default = true, *this; }
  Option& Hidden() { return hidden = true, *this; }
  Option& Count() { return check = Check::kCount, *this; }
  Option& Seconds() { return check = Check::kSeconds, *this; }
  Option& PositiveSeconds() { return check = Check::kPositiveSeconds, *this; }
  Option& Range(int64_t low, int64_t high) {
    check = Check::kRange, lo = low, hi = high;
    return *this;
  }
  Option& OneOf(std::vector<std::string> c) {
    check = Check::kOneOf, choices = std::move(c);
    return *this;
  }
  Option& AtMost(int n) { return max_values = n, *this; }
  Option& Exactly(int n) { return exact_values = n, *this; }
  Option& Excludes(std::string other) { return excludes.push_back(std::move(other)), *this; }
  Option& Needs(std::string other) { return needs.push_back(std::move(other)), *this; }
};

// A command: its options and what runs when argv chooses it. For a program
// without commands, the program's own options.
struct Command {
  std::string name;
  std::string help;
  std::deque<Option> options;  // a deque: references returned by Add stay valid
  std::function<int()> run;

  Option& Add(std::string names, Target target, std::string help_text) {
    options.push_back(
        Option{.names = std::move(names), .help = std::move(help_text), .target = target});
    return options.back();
  }
  Option& Flag(std::string names, Target target, std::string help_text) {
    Option& o = Add(std::move(names), target, std::move(help_text));
    o.flag = true;
    return o;
  }
};

struct Program {
  std::string name;     // in messages: "NAME: usage error: ..."
  std::string version;  // non-empty: a --version flag printing it
  // The program's own options (name and run unused). With commands, these
  // are global: allowed before or after the command name.
  Command globals;
  // Empty: argv holds only global options and positionals. Otherwise argv
  // must choose exactly one.
  std::vector<Command> commands;
};

// Parses argv (argv[0] is the program's name) against `p`, filling the
// targets. Returns std::nullopt on a valid command line, with `*chosen` the
// chosen command (nullptr for a program without commands). Otherwise the
// exit code to end with: 0 after --help or --version (printed to `out`),
// `usage_exit` after a usage error (printed to `err`, naming the closest
// valid spelling of an unknown command or option).
std::optional<int> Parse(Program& p, int argc, const char* const* argv, std::ostream& out,
                         std::ostream& err, const Command** chosen, int usage_exit = 2);

// Parses a program without commands with std::cout and std::cerr: the
// whole main of a benchmark or helper program. Returns the exit code to
// end with, or std::nullopt to go on.
std::optional<int> ParseMain(Program& p, int argc, const char* const* argv);

// The closest of `candidates` to `word` by edit distance (insertions,
// deletions, substitutions, adjacent transpositions), if it is close enough
// to be a plausible typo: at most 2 edits, and fewer edits than the word is
// long. Leading dashes do not count. Empty when nothing is close.
std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace txdir::cmdline
