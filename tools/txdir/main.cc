// txdir: the command-line tool. Every command takes the transactional
// directory DIR as its first argument. See docs/cli.md.
#include "tools/txdir/app.h"

int main(int argc, char** argv) { return txdir::cli::RunMain(argc, argv); }
