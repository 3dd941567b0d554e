package nvlm.comm;

/** How an all-reduce or reduce-scatter combines the ranks' values. */
public enum Reduction {
    SUM, MAX
}
