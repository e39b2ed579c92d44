//! all-MiniLM-L6-v2 on our BERT encoder (`crate::bert`, candle tensors):
//! word pieces from the model's own tokenizer.json, the encoder's last
//! hidden states, mean pooling over the real tokens (attention mask), L2
//! normalisation.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use tokenizers::Tokenizer;

use crate::bert::{Bert, BertConfig};

use crate::{DIM, EmbedError, MAX_WINDOWS, WINDOW_TOKENS};

/// Bytes of text read at most: far more than [`MAX_WINDOWS`] windows of
/// word pieces, so a 1 MB text is not tokenised whole.
const MAX_TEXT_BYTES: usize = 32 * 1024;

pub(crate) struct MiniLm {
    bert: Bert,
    tokenizer: Tokenizer,
    cls: u32,
    sep: u32,
    device: Device,
}

fn model_err(what: &str, e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Model(format!("{what}: {e}"))
}

impl MiniLm {
    pub(crate) fn load(dir: &Path) -> Result<MiniLm, EmbedError> {
        let device = Device::Cpu;
        let config = BertConfig::from_json(
            &std::fs::read_to_string(dir.join("config.json")).map_err(EmbedError::Io)?,
        )
        .map_err(|e| model_err("config.json", e))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| model_err("tokenizer.json", e))?;
        // The file pads and truncates to 128 for training; we cut windows
        // ourselves and pad a batch only to its longest window.
        tokenizer
            .with_truncation(None)
            .map_err(|e| model_err("tokenizer.json", e))?;
        tokenizer.with_padding(None);
        let id = |t: &str| {
            tokenizer
                .token_to_id(t)
                .ok_or_else(|| EmbedError::Model(format!("tokenizer.json has no {t}")))
        };
        let (cls, sep) = (id("[CLS]")?, id("[SEP]")?);
        let weights = std::fs::read(dir.join("model.safetensors")).map_err(EmbedError::Io)?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| model_err("model.safetensors", e))?;
        let bert = Bert::load(vb, &config).map_err(|e| model_err("model.safetensors", e))?;
        if config.hidden_size != DIM {
            return Err(EmbedError::Model(format!(
                "hidden size {} (expected {DIM})",
                config.hidden_size
            )));
        }
        Ok(MiniLm {
            bert,
            tokenizer,
            cls,
            sep,
            device,
        })
    }

    /// Word-piece windows of a text, each wrapped in [CLS] ... [SEP].
    fn windows(&self, text: &str) -> Result<Vec<Vec<u32>>, EmbedError> {
        let mut end = text.len().min(MAX_TEXT_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let enc = self
            .tokenizer
            .encode(&text[..end], false)
            .map_err(|e| model_err("tokenising", e))?;
        let ids = enc.get_ids();
        let inner = WINDOW_TOKENS - 2;
        let mut out: Vec<Vec<u32>> = ids
            .chunks(inner)
            .take(MAX_WINDOWS)
            .map(|c| {
                let mut w = Vec::with_capacity(c.len() + 2);
                w.push(self.cls);
                w.extend_from_slice(c);
                w.push(self.sep);
                w
            })
            .collect();
        if out.is_empty() {
            out.push(vec![self.cls, self.sep]);
        }
        Ok(out)
    }

    pub(crate) fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let windows = self.windows(text)?;
        let n = windows.len();
        let len = windows.iter().map(Vec::len).max().unwrap_or(2);
        let mut ids = vec![0u32; n * len];
        let mut mask = vec![0u32; n * len];
        for (i, w) in windows.iter().enumerate() {
            ids[i * len..i * len + w.len()].copy_from_slice(w);
            mask[i * len..i * len + w.len()].fill(1);
        }
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
            let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
            let hidden = self.bert.forward(&ids, &mask)?;
            // Mean over the real tokens of each window.
            let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&m)?.sum(1)?;
            let counts = m.sum(1)?;
            summed.broadcast_div(&counts)?.to_vec2::<f32>()
        };
        let pooled = run().map_err(|e| model_err("running the model", e))?;
        // Windows weighted by their real tokens, then unit length.
        let mut v = vec![0.0f32; DIM];
        for (w, p) in windows.iter().zip(&pooled) {
            let weight = (w.len() - 2).max(1) as f32;
            for (acc, x) in v.iter_mut().zip(p) {
                *acc += weight * x;
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        Ok(v)
    }
}
