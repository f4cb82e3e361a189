// The embedded byte-level tokenizer (ids, special tokens, exact round trip of arbitrary bytes),
// the ByteLevel alphabet of spec model.md §5.1, and UTF-8 handling in decoding (spec §5.4).
#include <boost/test/unit_test.hpp>

#include <random>

#include "tokenizer/byte_level.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/utf8.hpp"
#include "tokenizer_test_util.hpp"

using namespace mdrl::tokenizer;

BOOST_AUTO_TEST_SUITE(tokenizer_byte_level)

BOOST_AUTO_TEST_CASE(alphabet_matches_the_llada_byte_ids) {
  // Spec §5.1: space "Ġ" = 220, "\n" "Ċ" = 198, "\t" = 197, "\r" = 201; printables first.
  const auto& order = byte_level::vocabulary_order();
  BOOST_TEST(order[220] == ' ');
  BOOST_TEST(order[198] == '\n');
  BOOST_TEST(order[197] == '\t');
  BOOST_TEST(order[201] == '\r');
  BOOST_TEST(order[0] == '!');
  BOOST_TEST(order[255] == 0xAD);
  BOOST_TEST(byte_level::byte_to_utf8(' ') == "\xC4\xA0");  // U+0120 'Ġ'
  BOOST_TEST(byte_level::encode("a b\n") == "a\xC4\xA0" "b\xC4\x8A");
  for (unsigned b = 0; b < 256; ++b) {
    const auto s = byte_level::byte_to_utf8(static_cast<uint8_t>(b));
    BOOST_TEST(byte_level::decode(s).value() == std::string(1, static_cast<char>(b)));
  }
  BOOST_TEST(!byte_level::decode("a b").has_value());  // a raw space is not in the alphabet
}

BOOST_AUTO_TEST_CASE(builtin_ids_and_special_tokens) {
  const auto tok = Tokenizer::load(Tokenizer::kBuiltinByteLevel);
  BOOST_TEST(tok.vocab_size() == 262);
  const auto& s = tok.special();
  BOOST_TEST(s.bos.value() == 256);
  BOOST_TEST(s.eos.value() == 257);
  BOOST_TEST(s.pad.value() == 257);
  BOOST_TEST(s.mask.value() == 258);
  BOOST_TEST(s.start_header.value() == 259);
  BOOST_TEST(s.end_header.value() == 260);
  BOOST_TEST(s.eot.value() == 261);
  BOOST_TEST(tok.encode(" \n") == (std::vector<TokenId>{220, 198}));
  BOOST_TEST(tok.encode("x<|eot_id|>") == (std::vector<TokenId>{87, 261}));
  BOOST_TEST(tok.id_to_token(220).value() == "\xC4\xA0");
  BOOST_TEST(tok.id_to_token(258).value() == "<|mdm_mask|>");
  BOOST_TEST(tok.is_special(258));
  BOOST_TEST(!tok.is_special(87));
  BOOST_TEST(tok.decode(std::vector<TokenId>{87, 261, 87}, true) == "xx");
  BOOST_TEST(tok.decode(std::vector<TokenId>{87, 999, -1, 87}) == "xx");  // ids without a token: nothing
}

BOOST_AUTO_TEST_CASE(random_bytes_round_trip) {
  const auto tok = Tokenizer::load(Tokenizer::kBuiltinByteLevel);
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 300);
  for (int k = 0; k < 500; ++k) {
    std::string s(static_cast<size_t>(len(rng)), '\0');
    for (auto& c : s) c = static_cast<char>(byte(rng));
    const auto ids = tok.encode(s);
    // No special token text can appear by chance at these lengths often; when it does it is one id.
    BOOST_TEST(tok.decode_bytes(ids) == s);
    BOOST_TEST(tok.decode(ids) == utf8::lossy(s));
  }
}

BOOST_AUTO_TEST_CASE(ill_formed_utf8_through_nfc_and_the_regex) {
  // ASCII mixed with bytes that can never start a well-formed character (continuation bytes, C0,
  // C1, F5..FF): NFC leaves them alone and PCRE2 (PCRE2_MATCH_INVALID_UTF) leaves them between
  // matches, so the bytes come back exactly.
  const auto tok = Tokenizer::load(mdrl::test::tokenizer_data("tokenizer.json").string());
  std::mt19937 rng(7);
  std::vector<unsigned char> alphabet;
  for (unsigned b = 0; b < 0x80; ++b) alphabet.push_back(static_cast<unsigned char>(b));
  for (unsigned b = 0x80; b < 0xC2; ++b) alphabet.push_back(static_cast<unsigned char>(b));
  for (unsigned b = 0xF5; b < 0x100; ++b) alphabet.push_back(static_cast<unsigned char>(b));
  for (int k = 0; k < 300; ++k) {
    std::string s(rng() % 80, '\0');
    for (auto& c : s) c = static_cast<char>(alphabet[rng() % alphabet.size()]);
    BOOST_TEST(tok.decode_bytes(tok.encode(s)) == s, utf8::escape(s));
  }
}

BOOST_AUTO_TEST_CASE(random_text_round_trip_through_the_trained_bpe) {
  // Valid UTF-8 in NFC (ASCII, Latin-1 letters without combining marks, CJK, emoji) round-trips.
  const auto tok = Tokenizer::load(mdrl::test::tokenizer_data("tokenizer.json").string());
  std::mt19937 rng(99);
  const std::vector<std::pair<char32_t, char32_t>> ranges = {{0x20, 0x7E}, {0xC0, 0xFF}, {0x4E00, 0x9FFF}, {0x1F600, 0x1F64F}, {0x09, 0x0D}};
  for (int k = 0; k < 300; ++k) {
    std::string s;
    const int n = static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      const auto& [lo, hi] = ranges[rng() % ranges.size()];
      s += utf8::encode_char(static_cast<char32_t>(lo + rng() % (hi - lo + 1)));
    }
    BOOST_TEST(tok.decode(tok.encode(s)) == s, utf8::escape(s));
  }
}

BOOST_AUTO_TEST_CASE(lossy_utf8_replaces_maximal_subparts) {
  BOOST_TEST(utf8::lossy("ok") == "ok");
  BOOST_TEST(utf8::lossy("\xF0\x9F\x91") == "\xEF\xBF\xBD");               // a truncated 4-byte char: one U+FFFD
  BOOST_TEST(utf8::lossy("a\xFF" "b") == "a\xEF\xBF\xBD" "b");
  BOOST_TEST(utf8::lossy("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate: 3
  BOOST_TEST(utf8::lossy("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");     // overlong
  BOOST_TEST(utf8::incomplete_tail("ab\xF0\x9F") == 2u);
  BOOST_TEST(utf8::incomplete_tail("ab\xF0\x9F\x91\xA9") == 0u);
  BOOST_TEST(utf8::incomplete_tail("ab\xFF") == 0u);
  BOOST_TEST(utf8::strip_python("\xE3\x80\x80 \n x y\xC2\x85\t") == "x y");
}

BOOST_AUTO_TEST_CASE(stream_decoder_waits_for_whole_characters) {
  // "👩" = f0 9f 91 a9 split over tokens, as LLaDA's ids [47681, 102] are (spec §5.4): with the
  // byte-level tokenizer each byte is its own token.
  const auto tok = Tokenizer::load(Tokenizer::kBuiltinByteLevel);
  const auto ids = tok.encode("a\xF0\x9F\x91\xA9" "b<|eot_id|>");
  BOOST_REQUIRE_EQUAL(ids.size(), 7u);
  StreamDecoder stream(tok, /*skip_special_tokens=*/true);
  std::vector<std::string> parts;
  for (const TokenId id : ids) parts.push_back(stream.push(id));
  BOOST_TEST(parts[0] == "a");
  BOOST_TEST(parts[1] == "");
  BOOST_TEST(parts[3] == "");
  BOOST_TEST(parts[4] == "\xF0\x9F\x91\xA9");
  BOOST_TEST(parts[5] == "b");
  BOOST_TEST(parts[6] == "");
  BOOST_TEST(stream.finish() == "");
  // Decoded one token at a time, the same bytes give replacement characters (the spec's
  // counterexample); the stream decoder does not.
  BOOST_TEST(tok.decode(std::vector<TokenId>{ids[1]}) == "\xEF\xBF\xBD");
  StreamDecoder cut(tok);
  cut.push(ids[1]);
  BOOST_TEST(cut.finish() == "\xEF\xBF\xBD");
}

BOOST_AUTO_TEST_SUITE_END()
