package nvlm.trainer.data;

import java.nio.charset.StandardCharsets;

/**
 * Seed derivation: the SplitMix64 finalizer and a 64-bit string hash. Seeds are derived from
 * their parts, never drawn from a shared stream.
 */
final class Seeds {
    private Seeds() {
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    static long derive(long... parts) {
        long h = 0x9e3779b97f4a7c15L;
        for (long p : parts) {
            h = mix(h ^ p) + 0x9e3779b97f4a7c15L;
        }
        return mix(h);
    }

    /** FNV-1a over UTF-8, then mixed. */
    static long hash(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return mix(h);
    }
}
