package nvlm.kernels;

/** Which keys each query may attend to; see {@link nvlm.kernels.cpu.Attention#forward} for the exact rules. */
public enum AttentionMask {
    /** Every query sees every key (ViT self-attention, docs/model.md §2). */
    NONE,
    /** Query i sees key j iff j <= i + (kvLen - qLen): bottom-right aligned for KV-cache decoding (docs/model.md §5). */
    CAUSAL,
    /** A byte tensor [batch, qLen, kvLen], nonzero = may attend (gated cross-attention, docs/model.md §7). */
    EXPLICIT
}
