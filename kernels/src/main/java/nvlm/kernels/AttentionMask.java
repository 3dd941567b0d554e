package nvlm.kernels;

/** Which keys each query may attend to; see {@link nvlm.kernels.cpu.Attention#forward} for the exact rules. */
public enum AttentionMask {
    /** Every query sees every key (ViT self-attention, spec section 2). */
    NONE,
    /** Query i sees key j iff j <= i + (kvLen - qLen): bottom-right aligned for KV-cache decoding (spec section 5). */
    CAUSAL,
    /** A byte tensor [batch, qLen, kvLen], nonzero = may attend (gated cross-attention, spec section 7). */
    EXPLICIT
}
