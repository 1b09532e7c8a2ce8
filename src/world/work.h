// The worked steps a critique shows (and the curriculum corpus teaches): column addition and
// subtraction from the right, long multiplication, counting by listing positions, reversing
// letter by letter, sorting by repeated minimum, comparing decimals digit by digit. Each step is
// local, so a small model can learn it; a "slip" writes the same steps with one realistic mistake.
#pragma once

#include "world/rng.h"
#include "world/task.h"

#include <string>
#include <vector>

namespace grm::world {

struct Work {
    std::string              text;    // one or more lines, no trailing newline
    std::vector<std::string> result;  // the computed answer as items (see Task::truth)
    bool                     slipped = false;  // a mistake was made (the result may still be right)
};

Work add_work(long long a, long long b, Rng * slip = nullptr);
Work sub_work(long long a, long long b, Rng * slip = nullptr);
Work mul_work(long long a, long long b, Rng * slip = nullptr);
Work count_work(const std::string & word, char letter, Rng * slip = nullptr);  // letter 0: count all letters
Work reverse_work(const std::string & word, Rng * slip = nullptr);
Work sort_work(const std::vector<long long> & nums, bool ascending, Rng * slip = nullptr);
Work compare_work(const std::string & x, const std::string & y, bool larger, Rng * slip = nullptr);

// The work for a task's query (nothing for list, whose checks are per response). With a slip
// generator, the steps contain one mistake chosen by it.
Work task_work(const Task & t, Rng * slip = nullptr);

}  // namespace grm::world
