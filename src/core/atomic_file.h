// Files written whole or not at all: a reader (or a run resumed after a kill) sees the old file or
// the complete new one, never a partial file. Every file grm writes goes through here, except the
// two append-only JSONL streams (eval results, training log.jsonl), which grow one line per write
// and whose readers drop a torn last line.
#pragma once

#include "core/error.h"

#include <functional>
#include <ostream>
#include <string>

namespace grm {

// `write` fills a temp file beside `path` (path + ".tmp-PID"), which is renamed over `path` only
// when every write succeeded; on any failure (an exception from `write` included) the temp file is
// removed and the error names the file.
Status write_file_atomic(const std::string & path, const std::function<void(std::ostream &)> & write);

Status write_text_atomic(const std::string & path, const std::string & text);

}  // namespace grm
