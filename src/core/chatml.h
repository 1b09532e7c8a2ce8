// ChatML, the chat format of grm's own models (<|im_start|>role\n...<|im_end|>\n): spelled here once
// for the GGUF writer (Jinja template and special pieces), the tokenizer trainer, GRPO's prompts and
// the server's query splitter.
#pragma once

#include <string>

namespace grm {

inline constexpr const char * k_chatml_begin = "<|im_start|>";
inline constexpr const char * k_chatml_end   = "<|im_end|>";

// The Jinja chat template written into grm's GGUF files; llama.cpp recognises it as "chatml".
inline constexpr const char * k_chatml_template =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

// One user turn and the generation prompt, exactly as k_chatml_template renders them.
inline std::string chatml_user_prompt(const std::string & user) {
    return std::string(k_chatml_begin) + "user\n" + user + k_chatml_end + "\n" + k_chatml_begin + "assistant\n";
}

}  // namespace grm
