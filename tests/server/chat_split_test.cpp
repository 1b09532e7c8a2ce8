// Hand-written table for the OpenRLHF query split: prompt prefix, each template family's
// assistant marker, end-token stripping and the conversation recovered from the prompt.
#include "server/chat_split.h"

#include <gtest/gtest.h>

using grm::server::split_reward_query;

namespace {

struct Case {
    const char * name;
    std::string  query;
    std::string  prompt;  // empty: split on the marker
    std::string  response;
    std::string  last_user;
    size_t       turns;
    std::string  rule;
};

}  // namespace

TEST(ChatSplit, Table) {
    const std::vector<Case> cases = {
        { "chatml with prompt", "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>",
          "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", "4", "What is 2+2?", 1, "prompt" },
        { "chatml marker, system turn",
          "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>",
          "", "Hello!", "Hi", 2, "marker <|im_start|>assistant\n" },
        { "chatml multi-turn takes the last assistant",
          "<|im_start|>user\nA<|im_end|>\n<|im_start|>assistant\nB<|im_end|>\n<|im_start|>user\nC<|im_end|>\n<|im_start|>assistant\nD<|im_end|><|endoftext|>",
          "", "D", "C", 3, "marker <|im_start|>assistant\n" },
        { "llama3",
          "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nName a colour.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nBlue.<|eot_id|>",
          "", "Blue.", "Name a colour.", 1, "marker <|start_header_id|>assistant<|end_header_id|>" },
        { "llama2 inst with system", "<s>[INST] <<SYS>>\nYou are kind.\n<</SYS>>\n\nHow are you? [/INST] Fine, thanks. </s>", "",
          "Fine, thanks.", "How are you?", 2, "marker [/INST]" },
        { "plain", "User: Say yes.\nAssistant: yes", "", "yes", "Say yes.", 1, "marker Assistant:" },
        { "bos before the prompt", "<s>Q: 1+1?\nA:", "Q: 1+1?\nA:", "", "Q: 1+1?\nA:", 1, "prompt_found" },
        { "prompt without a template", "Translate 'chat': cat", "Translate 'chat':", "cat", "Translate 'chat':", 1, "prompt" },
    };
    for (const auto & c : cases) {
        SCOPED_TRACE(c.name);
        auto r = split_reward_query(c.query, &c.prompt);
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->response, c.response);
        EXPECT_EQ(r->rule, c.rule);
        ASSERT_EQ(r->conversation.size(), c.turns);
        EXPECT_EQ(r->conversation.back().role, "user");
        EXPECT_EQ(r->conversation.back().content, c.last_user);
    }
}

TEST(ChatSplit, NoPromptNoMarkerIsAnError) {
    std::string empty;
    auto        r = split_reward_query("just some text", &empty);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("assistant marker"), std::string::npos);
}
