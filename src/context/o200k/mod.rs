//! Exact o200k_base token counts (the encoding of GPT-4o, GPT-4.1, o1, o3 and o4-mini), as tiktoken encodes text
//! without special tokens (`encode_ordinary`: `<|endoftext|>` in a text is text): the pre-tokenizer cuts the text
//! into pieces ([`pre_tokenizer`]), and each piece is byte-pair encoded with the real vocabulary ([`bpe`],
//! [`vocabulary`], 0.99 MB compressed in the wasm, read on the first count).

mod bpe;
mod pre_tokenizer;
#[rustfmt::skip]
mod unicode_tables;
mod vocabulary;

/// The number of tokens o200k_base encodes `text` as.
pub fn count(text: &str) -> u64 {
    let mut merger = bpe::Merger::new(vocabulary::Vocabulary::get());
    pre_tokenizer::Pieces::new(text).map(|(start, end)| merger.count(&text.as_bytes()[start..end])).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_tiktoken() {
        // Counts from js-tiktoken's o200k_base.
        assert_eq!(count(""), 0);
        assert_eq!(count("Hello world"), 2);
        assert_eq!(count("<|endoftext|>"), 7);
    }
}
