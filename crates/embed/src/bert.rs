//! A BERT encoder (the architecture of all-MiniLM-L6-v2) on candle's
//! tensors: embeddings, then self-attention and feed-forward layers, each
//! with its residual and layer norm. Only what a sentence embedding needs:
//! the last hidden states, no pooler, no dropout (inference).
//!
//! Written here rather than taken from candle-transformers, which compiles
//! a hundred other models with it (the largest part of the test build).

use candle_core::{D, DType, Module, Result, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder, embedding, layer_norm, linear};

/// The sizes the encoder needs, read from the model's `config.json`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
}

impl BertConfig {
    /// Reads `config.json`, refusing a model this encoder does not run.
    pub(crate) fn from_json(text: &str) -> std::result::Result<BertConfig, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let size = |k: &str| {
            v[k].as_u64()
                .filter(|n| *n > 0)
                .map(|n| n as usize)
                .ok_or_else(|| format!("{k} is missing or not a positive whole number"))
        };
        let act = v["hidden_act"].as_str().unwrap_or("gelu");
        if act != "gelu" {
            return Err(format!("hidden_act {act:?} (only \"gelu\" is run)"));
        }
        if let Some(p) = v["position_embedding_type"].as_str()
            && p != "absolute"
        {
            return Err(format!("position_embedding_type {p:?} (only \"absolute\")"));
        }
        let c = BertConfig {
            vocab_size: size("vocab_size")?,
            hidden_size: size("hidden_size")?,
            num_hidden_layers: size("num_hidden_layers")?,
            num_attention_heads: size("num_attention_heads")?,
            intermediate_size: size("intermediate_size")?,
            max_position_embeddings: size("max_position_embeddings")?,
            type_vocab_size: size("type_vocab_size").unwrap_or(2),
            layer_norm_eps: v["layer_norm_eps"].as_f64().unwrap_or(1e-12),
        };
        if !c.hidden_size.is_multiple_of(c.num_attention_heads) {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                c.hidden_size, c.num_attention_heads
            ));
        }
        Ok(c)
    }
}

struct Embeddings {
    words: Embedding,
    positions: Embedding,
    token_types: Embedding,
    norm: LayerNorm,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    out: Linear,
    out_norm: LayerNorm,
}

pub(crate) struct Bert {
    embeddings: Embeddings,
    layers: Vec<Layer>,
    heads: usize,
    head_size: usize,
}

impl Bert {
    /// The weights under `embeddings.` and `encoder.layer.N.` (the names of
    /// the Hugging Face BERT checkpoints).
    pub(crate) fn load(vb: VarBuilder, c: &BertConfig) -> Result<Bert> {
        let h = c.hidden_size;
        let norm = |vb: VarBuilder| layer_norm(h, c.layer_norm_eps, vb.pp("LayerNorm"));
        let e = vb.pp("embeddings");
        let embeddings = Embeddings {
            words: embedding(c.vocab_size, h, e.pp("word_embeddings"))?,
            positions: embedding(c.max_position_embeddings, h, e.pp("position_embeddings"))?,
            token_types: embedding(c.type_vocab_size, h, e.pp("token_type_embeddings"))?,
            norm: norm(e.clone())?,
        };
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let l = vb.pp(format!("encoder.layer.{i}"));
                let a = l.pp("attention");
                Ok(Layer {
                    query: linear(h, h, a.pp("self.query"))?,
                    key: linear(h, h, a.pp("self.key"))?,
                    value: linear(h, h, a.pp("self.value"))?,
                    attention_out: linear(h, h, a.pp("output.dense"))?,
                    attention_norm: norm(a.pp("output"))?,
                    intermediate: linear(h, c.intermediate_size, l.pp("intermediate.dense"))?,
                    out: linear(c.intermediate_size, h, l.pp("output.dense"))?,
                    out_norm: norm(l.pp("output"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Bert {
            embeddings,
            layers,
            heads: c.num_attention_heads,
            head_size: h / c.num_attention_heads,
        })
    }

    /// The last hidden states `(batch, tokens, hidden)` of a batch of
    /// word-piece ids `(batch, tokens)`; `mask` is 1 for a real token and 0
    /// for padding, which no token attends to.
    pub(crate) fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (_, tokens) = ids.dims2()?;
        let e = &self.embeddings;
        let positions = Tensor::arange(0u32, tokens as u32, ids.device())?;
        let mut x = (e.words.forward(ids)? + e.token_types.forward(&ids.zeros_like()?)?)?
            .broadcast_add(&e.positions.forward(&positions)?)?;
        x = e.norm.forward(&x)?;
        // 0 where a token may be attended to, the lowest float where not.
        let mask = mask.unsqueeze(1)?.unsqueeze(1)?.to_dtype(DType::F32)?;
        let mask = (mask.ones_like()? - &mask)?.affine(f32::MIN as f64, 0.0)?;
        for l in &self.layers {
            x = self.layer(l, &x, &mask)?;
        }
        Ok(x)
    }

    fn layer(&self, l: &Layer, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let split = |t: Tensor| -> Result<Tensor> {
            let (b, s, _) = t.dims3()?;
            t.reshape((b, s, self.heads, self.head_size))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(l.query.forward(x)?)?;
        let k = split(l.key.forward(x)?)?;
        let v = split(l.value.forward(x)?)?;
        let scores = (q.matmul(&k.t()?)? / (self.head_size as f64).sqrt())?;
        let weights = candle_nn::ops::softmax(&scores.broadcast_add(mask)?, D::Minus1)?;
        let context = weights
            .matmul(&v)?
            .transpose(1, 2)?
            .flatten_from(D::Minus2)?;
        let attended = l
            .attention_norm
            .forward(&(l.attention_out.forward(&context)? + x)?)?;
        let inner = l.intermediate.forward(&attended)?.gelu_erf()?;
        l.out_norm.forward(&(l.out.forward(&inner)? + &attended)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINILM: &str = r#"{"hidden_act": "gelu", "hidden_size": 384, "intermediate_size": 1536,
        "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "num_attention_heads": 12,
        "num_hidden_layers": 6, "position_embedding_type": "absolute", "type_vocab_size": 2,
        "vocab_size": 30522}"#;

    #[test]
    fn reads_the_minilm_config_and_refuses_what_it_cannot_run() {
        let c = BertConfig::from_json(MINILM).unwrap();
        assert_eq!(
            (c.hidden_size, c.num_attention_heads, c.num_hidden_layers),
            (384, 12, 6)
        );
        let with = |k: &str, v: &str| {
            MINILM.replacen(
                &format!("\"{k}\": "),
                &format!("\"{k}\": {v}, \"was\": "),
                1,
            )
        };
        let refused = |text: String| BertConfig::from_json(&text).unwrap_err();
        assert!(refused(with("hidden_act", "\"relu\"")).contains("hidden_act"));
        assert!(
            refused(with("position_embedding_type", "\"relative_key\"")).contains("relative_key")
        );
        assert!(refused(with("num_attention_heads", "7")).contains("multiple"));
        assert!(refused(with("hidden_size", "0")).contains("hidden_size"));
        assert!(refused("[]".into()).contains("vocab_size"));
        assert!(BertConfig::from_json("{").is_err());
    }
}
