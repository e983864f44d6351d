// The one parser of every txdir program's command line (cmdline.h): builds a
// CLI11 app from a Program's tables, parses, and reports what was chosen.
#include "tools/cmdline/cmdline.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <type_traits>

namespace txdir::cmdline {

namespace {

CLI::Validator SecondsValidator(bool positive) {
  return CLI::Validator(
      [positive](std::string& text) -> std::string {
        double v = 0;
        const char* b = text.data();
        auto [p, ec] = std::from_chars(b, b + text.size(), v);
        bool number = ec == std::errc() && p == b + text.size() && std::isfinite(v);
        if (!number || v < 0 || (positive && v == 0) || v > kMaxSeconds)
          return "'" + text + "' is not a number of seconds " + (positive ? "above 0" : "from 0") +
                 " to " + std::to_string(static_cast<int>(kMaxSeconds)) + " (one week)";
        return "";
      },
      positive ? "SECONDS>0" : "SECONDS");
}

CLI::Validator CountValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        int64_t v = 0;
        const char* b = text.data();
        auto [p, ec] = std::from_chars(b, b + text.size(), v);
        if (ec != std::errc() || p != b + text.size() || v < 1)
          return "'" + text + "' is not a positive integer (1 to " +
                 std::to_string(std::numeric_limits<int64_t>::max()) + ")";
        return "";
      },
      "N>0");
}

// A table that cannot be turned into an app is a bug in the program that
// declared it, found by the first test that parses anything.
[[noreturn]] void BadTable(const std::string& what) {
  (void)std::fprintf(stderr, "internal error: command-line table: %s\n", what.c_str());
  std::abort();
}

void AddOne(CLI::App& app, Option& o) {
  CLI::Option* opt = std::visit(
      [&](auto* target) -> CLI::Option* {
        using T = std::remove_pointer_t<decltype(target)>;
        if (o.flag) {
          if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, int>)
            return app.add_flag(o.names, *target, o.help);
          BadTable("flag " + o.names + " is bound to a variable that is not bool or int");
        }
        return app.add_option(o.names, *target, o.help);
      },
      o.target);
  if (o.required) opt->required();
  if (o.show_default) opt->capture_default_str();
  if (o.hidden) opt->group("");
  if (o.max_values >= 0) opt->expected(0, o.max_values);
  if (o.exact_values >= 0) opt->expected(o.exact_values);
  switch (o.check) {
    case Check::kNone:
      break;
    case Check::kCount:
      opt->check(CountValidator());
      break;
    case Check::kSeconds:
      opt->check(SecondsValidator(/*positive=*/false));
      break;
    case Check::kPositiveSeconds:
      opt->check(SecondsValidator(/*positive=*/true));
      break;
    case Check::kRange:
      opt->check(CLI::Range(o.lo, o.hi));
      break;
    case Check::kOneOf:
      opt->check(CLI::IsMember(o.choices));
      break;
  }
}

// Options first, then the links between them (which name other options).
void AddAll(CLI::App& app, Command& c) {
  for (Option& o : c.options) AddOne(app, o);
  for (const Option& o : c.options) {
    CLI::Option* self = app.get_option(o.names.substr(0, o.names.find(',')));
    for (const auto& other : o.excludes) self->excludes(app.get_option(other));
    for (const auto& other : o.needs) self->needs(app.get_option(other));
  }
}

// Optimal string alignment distance: typos are mostly one insertion,
// deletion, substitution or swap of neighbours.
size_t EditDistance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

bool LooksLikeNumber(const std::string& s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

// Every option spelling of `c` ("-n", "--max-count", ...), with the ones
// the parser adds itself. `with_value` gets those that take a value.
void Spellings(const Command& c, std::vector<std::string>* out,
               std::vector<std::string>* with_value) {
  out->insert(out->end(), {"-h", "--help"});
  for (const Option& o : c.options) {
    size_t start = 0;
    while (start <= o.names.size()) {
      size_t end = std::min(o.names.find(',', start), o.names.size());
      std::string name = o.names.substr(start, end - start);
      if (!name.empty() && name[0] == '-') {
        out->push_back(name);
        if (!o.flag && with_value) with_value->push_back(name);
      }
      start = end + 1;
    }
  }
}

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Names the first unknown command or option in argv with the closest valid
// spelling. CLI11's own messages do not suggest anything, and for an
// unknown command name it only says that a command is required. Empty when
// argv has no unknown command or option (the error is about something else).
std::string DiagnoseUnknown(const Program& p, const std::vector<std::string>& args) {
  std::vector<std::string> globals, global_values;
  Spellings(p.globals, &globals, &global_values);
  if (!p.version.empty()) globals.emplace_back("--version");
  auto known = [](const std::vector<std::string>& names, const std::string& arg) {
    if (Contains(names, arg.substr(0, arg.find('=')))) return true;
    // A cluster of short flags or a short option with its value attached
    // ("-vv", "-n5"): CLI11 reads the first letter as the option.
    return arg.size() > 2 && arg[1] != '-' && Contains(names, arg.substr(0, 2));
  };
  // `command` is empty for an option before any command name.
  auto unknown_option = [&p](const std::string& arg, const std::vector<std::string>& names,
                             const std::string& command) {
    std::string name = arg.substr(0, arg.find('='));
    std::string msg = "unknown option '" + name + "'";
    if (!command.empty()) msg += " for '" + command + "'";
    std::string best = ClosestMatch(name, names);
    if (!best.empty()) return msg + "; did you mean '" + best + "'?";
    return msg + "; see '" + p.name + " " + (command.empty() ? "" : command + " ") + "--help'";
  };
  const Command* cmd = nullptr;
  std::vector<std::string> local;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;  // what follows is a command's own argv (exec, run)
    bool option = a.size() > 1 && a[0] == '-' && !LooksLikeNumber(a);
    if (!option) {
      if (cmd || p.commands.empty()) continue;  // a positional argument
      std::vector<std::string> names;
      for (const Command& c : p.commands) {
        if (c.name == a) cmd = &c;
        names.push_back(c.name);
      }
      if (cmd) {
        Spellings(*cmd, &local, nullptr);
        continue;
      }
      std::string best = ClosestMatch(a, names);
      if (!best.empty()) return "unknown command '" + a + "'; did you mean '" + best + "'?";
      return "unknown command '" + a + "'; see '" + p.name + " --help' for the commands";
    }
    if (known(globals, a)) {
      if (Contains(global_values, a)) ++i;
      continue;
    }
    if (cmd && known(local, a)) continue;
    if (!cmd) return unknown_option(a, globals, "");
    std::vector<std::string> all = local;
    all.insert(all.end(), globals.begin(), globals.end());
    return unknown_option(a, all, cmd->name);
  }
  return "";
}

}  // namespace

std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  // Compare without the leading dashes, so that "-json" finds "--json" and
  // a short option is not suggested for a long word.
  auto core = [](const std::string& s) {
    return s.substr(std::min(s.find_first_not_of('-'), s.size()));
  };
  const std::string w = core(word);
  std::string best;
  size_t best_d = 3;  // at most 2 edits
  for (const auto& c : candidates) {
    size_t d = EditDistance(w, core(c));
    if (d < best_d && d < w.size() && d < core(c).size()) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

// The command argv names: its first word that is not a global option or a
// global option's value, when that word is a command's name. nullptr when
// there is none (help, a typo, only options).
const Command* NamedCommand(const Program& p, int argc, const char* const* argv) {
  if (p.commands.empty()) return nullptr;
  std::vector<std::string> globals, global_values;
  Spellings(p.globals, &globals, &global_values);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return nullptr;
    if (!arg.empty() && arg[0] == '-') {
      if (Contains(global_values, arg)) ++i;  // "--timeout 5": the value is not a command
      continue;
    }
    for (const Command& c : p.commands)
      if (c.name == arg) return &c;
    return nullptr;
  }
  return nullptr;
}

std::optional<int> Parse(Program& p, int argc, const char* const* argv, std::ostream& out,
                         std::ostream& err, const Command** chosen, int usage_exit) {
  *chosen = nullptr;
  CLI::App app(p.globals.help, p.name);
  if (!p.commands.empty()) {
    app.require_subcommand(1);
    // Global options work before or after the command name.
    app.fallthrough();
  }
  if (!p.version.empty()) app.set_version_flag("--version", p.version);
  AddAll(app, p.globals);
  // Only the named command's options are built: every command's would be
  // about a tenth of what a short-lived process spends before its work.
  // The others stay listed (help, and the choice of a command); when argv
  // names none, all are built, so that errors read as they always do.
  const Command* named = NamedCommand(p, argc, argv);
  for (Command& c : p.commands) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    if (named == nullptr || named == &c) AddAll(*sub, c);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    std::string unknown = DiagnoseUnknown(p, args);
    if (!unknown.empty())
      err << p.name << ": usage error: " << unknown << "\n";
    else
      app.exit(e, out, err);
    return usage_exit;
  }
  for (const CLI::App* sub : app.get_subcommands()) {
    for (const Command& c : p.commands)
      if (c.name == sub->get_name()) *chosen = &c;
  }
  return std::nullopt;
}

std::optional<int> ParseMain(Program& p, int argc, const char* const* argv) {
  const Command* chosen = nullptr;
  return Parse(p, argc, argv, std::cout, std::cerr, &chosen);
}

}  // namespace txdir::cmdline
