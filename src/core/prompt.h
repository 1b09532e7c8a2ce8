// The pointwise GRM prompt: asks for weighted specific criteria, an analysis of each response and
// `Scores: \boxed{s1, ..., sn}`. Templates are plain text with placeholders so users holding
// weights trained on another template (e.g. DeepSeek-GRM) can supply theirs with --template.
//
// Placeholders: {conversation} earlier turns as "Role: text" lines (empty for one turn),
// {context} every turn, the last user turn included, as "Role: text" lines, {query} the last user
// turn, {responses} the response blocks, {response} the single response (single template), {n} the
// number of responses, {hint} the hint (hinted RFT sampling; empty otherwise). The block and hint
// texts are templates too, with {i} (the 1-based shown position) and, in the block, {response}:
// together these express both grm's layout and the DeepSeek-GRM paper's (Appendix G), see
// docs/templates.md.
#pragma once

#include "core/error.h"
#include "core/sample.h"

#include <optional>
#include <string>
#include <vector>

namespace grm {

struct PromptTemplate {
    std::string multi;   // n >= 2 (and n == 1 when single is empty)
    std::string single;  // n == 1
    std::string binary;  // n == 1 scored 0 or 1 (JudgeParams::binary_single); empty: this template has none
    std::string block = "[Response {i}]\n{response}\n[End of Response {i}]\n";  // each of {responses}
    std::string hint  = "(Hint: Response {i} is the best one.)\n";             // {hint}, n >= 2
};

// with_principles = false is the "GRM without principles" ablation: analysis and scores only.
PromptTemplate default_template(bool with_principles = true);

// A template file holds the multi template, optionally followed by sections that each start with a
// line "=== single ===", "=== binary ===", "=== block ===" or "=== hint ===" (the single-response
// template, its 0/1 variant, the response block, the hint; absent block and hint keep grm's, a file
// without a single or binary section has none). Unknown placeholders and sections are errors.
Result<PromptTemplate> load_template(const std::string & path);
// The same from a template file's text; `origin` names it in errors (a path, or a head file that
// recorded the template).
Result<PromptTemplate> parse_template(const std::string & text, const std::string & origin);

// The lines that open and close a response's block: "[Response k]\n" and "[End of Response k]\n"
// with k = position + 1, or "[Response]\n" and "[End of Response]\n" for the single-response
// template. grm's own tokenizer can carry them as single pieces (grm-spm --response-markers): a
// judgment then addresses a block by the one token that opens it, and copying the block is a
// plain induction from that token.
std::pair<std::string, std::string> response_markers(int position, bool single);
// One response framed as the prompt shows it: "[Response k]\n{text}\n[End of Response k]\n" with
// k = position + 1, or "[Response]\n{text}\n[End of Response]\n" for the single-response template.
// Quoting teachers write it back in exactly this form.
std::string response_block(const std::string & text, int position, bool single);
// The {responses} placeholder: every response's block in shown order (order as below); `block` as
// PromptTemplate::block (grm's by default, which response_block writes).
std::string render_responses(const Sample & s, const std::vector<int> & order,
                             const std::string & block = PromptTemplate{}.block);

// order[p] = index (into s.responses) of the response shown at position p.
// hint_position: position (0-based, in shown order) of the best response, for hinted sampling.
// binary: one response is judged with t.binary (a 0/1 score; t.binary must not be empty).
std::string render_prompt(const PromptTemplate & t, const Sample & s, const std::vector<int> & order,
                          std::optional<int> hint_position = std::nullopt, bool binary = false);

}  // namespace grm
