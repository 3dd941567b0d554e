"""Self-tests of the reference: `cd tests/reference && python3 -m unittest test_ref` (or pytest).

The reference is the oracle of the Java golden tests, so it is checked here against slow,
obvious re-derivations of docs/model.md (loops over heads, positions and tiles), against PyTorch's own
operators, and for gradients against finite differences (torch.autograd.gradcheck, float64).
"""
import json
import math
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import make_batch  # noqa: E402
import make_model  # noqa: E402
import nvlm_ref  # noqa: E402
import run_ref  # noqa: E402
import st_io  # noqa: E402
from nvlm_ref import Batch, NvlmConfig  # noqa: E402


def build(arch, preset="tiny", seed=1, random_gates=True, dtype=torch.float64, **config_args):
    """A model of `preset` with make_model's weights, in memory."""
    config = make_model.make_config(arch, preset, seed=seed, random_gates=random_gates, **config_args)
    cfg = NvlmConfig.from_dict(config)
    model = nvlm_ref.build_model(cfg)
    weights = make_model.init_weights(model, seed, random_gates)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
    return model.to(dtype)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def batch_for(model, seed=2, **kwargs):
    return Batch.from_arrays(make_batch.make_batch(model.config, seed, **kwargs))


def xattn_deltas(model, batch):
    """What each cross-attention block adds to the residual stream: [block] -> [B, T, d]."""
    deltas = []

    def record(module, inputs, output):
        deltas.append((output - inputs[0]).detach())

    hooks = [block.register_forward_hook(record) for block in model.language_model.model.xattn_layers]
    try:
        with torch.no_grad():
            model(batch)
    finally:
        for h in hooks:
            h.remove()
    return deltas


def plain_decoder_logits(model, input_ids):
    """The Qwen2 decoder of docs/model.md §5 alone (no cross-attention), same weights."""
    decoder = nvlm_ref.LanguageModel(model.config.llm, None).to(model.embed_tokens.weight.dtype)
    weights = {k[len("language_model."):]: v for k, v in model.state_dict().items()
               if k.startswith("language_model.") and ".xattn_layers." not in k}
    decoder.load_state_dict(weights, strict=True)
    with torch.no_grad():
        return decoder(decoder.model.embed_tokens(input_ids))


# ---------------------------------------------------------------------------------------------
# Slow re-derivations of docs/model.md, one position and one head at a time
# ---------------------------------------------------------------------------------------------

def slow_rms_norm(x, weight, eps):
    return x / torch.sqrt((x * x).mean() + eps) * weight


def slow_attention_row(q_row, keys, values, heads, kv_heads):
    """One query position: q_row [heads*h]; keys/values [M, kv_heads*h]."""
    h = q_row.shape[0] // heads
    out = []
    for head in range(heads):
        kv = head // (heads // kv_heads)
        q = q_row[head * h:(head + 1) * h]
        k = keys[:, kv * h:(kv + 1) * h]
        v = values[:, kv * h:(kv + 1) * h]
        weights = torch.softmax(k @ q / math.sqrt(h), dim=0)
        out.append(weights @ v)
    return torch.cat(out)


def slow_decoder_logits(model, input_ids_row):
    """docs/model.md §5 written out: RoPE as a rotation of the pairs (i, i + h/2), causal attention per
    position and head, SwiGLU, final norm, lm_head."""
    cfg = model.config.llm
    lm = model.language_model.model
    h, heads, kv_heads = cfg.head_dim, cfg.num_heads, cfg.num_kv_heads
    x = lm.embed_tokens.weight[input_ids_row]
    t_len = x.shape[0]

    def rope(vec, pos, n):
        out = vec.clone()
        for head in range(n):
            for i in range(h // 2):
                angle = pos * cfg.rope_theta ** (-2.0 * i / h)
                a, b = vec[head * h + i], vec[head * h + i + h // 2]
                out[head * h + i] = a * math.cos(angle) - b * math.sin(angle)
                out[head * h + i + h // 2] = b * math.cos(angle) + a * math.sin(angle)
        return out

    for layer in lm.layers:
        a = layer.self_attn
        normed = torch.stack([slow_rms_norm(x[t], layer.input_layernorm.weight, cfg.rms_norm_eps)
                              for t in range(t_len)])
        q = torch.stack([rope(a.q_proj(normed[t]), t, heads) for t in range(t_len)])
        k = torch.stack([rope(a.k_proj(normed[t]), t, kv_heads) for t in range(t_len)])
        v = a.v_proj(normed)
        attn = torch.stack([slow_attention_row(q[t], k[:t + 1], v[:t + 1], heads, kv_heads)
                            for t in range(t_len)])
        x = x + a.o_proj(attn)
        normed = torch.stack([slow_rms_norm(x[t], layer.post_attention_layernorm.weight, cfg.rms_norm_eps)
                              for t in range(t_len)])
        m = layer.mlp
        x = x + m.down_proj(F.silu(m.gate_proj(normed)) * m.up_proj(normed))
    x = torch.stack([slow_rms_norm(x[t], lm.norm.weight, cfg.rms_norm_eps) for t in range(t_len)])
    return model.language_model.lm_head(x)


def slow_memory_sets(model, batch, features):
    """docs/model.md §10's attention set of every position, read literally: {(b, t): [vectors]}."""
    arch = model.config.architecture
    offsets = batch.tile_offsets.tolist()
    sets = {}
    b_len, t_len = batch.input_ids.shape
    for b in range(b_len):
        for t in range(t_len):
            m = int(batch.media_image[b, t])
            if m < 0:
                sets[b, t] = []
                continue
            tiles, first = int(batch.image_tiles[m]), offsets[m]
            if arch == "X":
                j = int(batch.media_tile[b, t])
                chosen = [j] if j >= 0 else list(range(tiles))
                sets[b, t] = [features[first + k] for k in chosen]
            else:  # H: regular tiles only, each after its tag's token embeddings
                parts = []
                for k in range(tiles - 1):
                    tag = [i for i in batch.tile_tag_ids[first + k].tolist() if i >= 0]
                    if tag:
                        parts.append(model.embed_tokens.weight[torch.tensor(tag)])
                    parts.append(features[first + k])
                sets[b, t] = parts
    return sets


def slow_gated_block(block, cfg, x, sets):
    """docs/model.md §7's block at every position separately; empty set -> x unchanged."""
    out = x.clone()
    for (b, t), parts in sets.items():
        if not parts:
            continue
        memory = torch.cat(parts)
        a = block.attn
        normed = slow_rms_norm(x[b, t], block.norm1.weight, cfg.rms_norm_eps)
        attn = slow_attention_row(a.q_proj(normed), a.k_proj(memory), a.v_proj(memory),
                                  cfg.num_heads, cfg.num_kv_heads)
        y = x[b, t] + torch.tanh(block.attn_gate[0]) * a.o_proj(attn)
        normed = slow_rms_norm(y, block.norm2.weight, cfg.rms_norm_eps)
        m = block.mlp
        out[b, t] = y + torch.tanh(block.ff_gate[0]) * m.down_proj(F.silu(m.gate_proj(normed)) * m.up_proj(normed))
    return out


class PixelShuffleAndVision(unittest.TestCase):
    def test_pixel_shuffle_is_a_permutation_of_its_input(self):
        for g, c in [(2, 1), (4, 3), (8, 5)]:
            x = torch.randperm(2 * g * g * c).reshape(2, g * g, c).double()
            y = nvlm_ref.pixel_shuffle(x)
            self.assertEqual(tuple(y.shape), (2, (g // 2) ** 2, 4 * c))
            self.assertTrue(torch.equal(y.flatten().sort().values, x.flatten().sort().values))

    def test_pixel_shuffle_token_order_is_spec_3(self):
        g, c = 6, 3
        x = torch.randn(1, g * g, c, dtype=torch.float64)
        grid = x.reshape(g, g, c)  # [row y, column x]
        y = nvlm_ref.pixel_shuffle(x)[0]
        for y2 in range(g // 2):
            for x2 in range(g // 2):
                want = torch.cat([grid[2 * y2, 2 * x2], grid[2 * y2, 2 * x2 + 1],
                                  grid[2 * y2 + 1, 2 * x2], grid[2 * y2 + 1, 2 * x2 + 1]])
                self.assertTrue(torch.equal(y[y2 * (g // 2) + x2], want))

    def test_pixel_shuffle_equals_internvl_v2_view_permute(self):
        n, g, c = 2, 8, 5
        x = torch.randn(n, g * g, c, dtype=torch.float64)
        # InternVL's pixel_shuffle(scale 0.5, ps_version v2) on [n, w, h, c] = [n, G, G, C].
        v = x.reshape(n, g, g, c).view(n, g, g // 2, c * 2).permute(0, 2, 1, 3).contiguous()
        v = v.view(n, g // 2, g // 2, c * 4).permute(0, 2, 1, 3).contiguous().reshape(n, -1, 4 * c)
        self.assertTrue(torch.equal(nvlm_ref.pixel_shuffle(x), v))

    def test_patch_embedding_equals_a_strided_convolution(self):
        emb = nvlm_ref.PatchEmbedding(14, 6).double()
        torch.nn.init.normal_(emb.weight)
        torch.nn.init.normal_(emb.bias)
        pixels = torch.randn(3, 3, 56, 56, dtype=torch.float64)
        conv = F.conv2d(pixels, emb.weight, emb.bias, stride=14).flatten(2).transpose(1, 2)
        torch.testing.assert_close(emb(pixels), conv, rtol=1e-12, atol=1e-12)

    def test_position_embedding_resize_is_bicubic_and_keeps_cls(self):
        cfg = NvlmConfig.from_dict(make_model.make_config("D", "tiny")).vision
        cfg.position_grid = 4
        emb = nvlm_ref.InternVisionEmbeddings(cfg).double()
        torch.nn.init.normal_(emb.position_embedding)
        patch = emb.patch_position_embedding(cfg.grid)
        stored = emb.position_embedding[:, 1:].reshape(1, 4, 4, -1).permute(0, 3, 1, 2)
        want = F.interpolate(stored, size=(cfg.grid, cfg.grid), mode="bicubic", align_corners=False)
        torch.testing.assert_close(patch, want.permute(0, 2, 3, 1).reshape(1, cfg.grid ** 2, -1))
        # A constant field stays constant under bicubic resampling (weights sum to 1).
        with torch.no_grad():
            emb.position_embedding.fill_(0.25)
        torch.testing.assert_close(emb.patch_position_embedding(cfg.grid),
                                   torch.full_like(patch, 0.25), rtol=1e-12, atol=1e-12)

    def test_dummy_heads_with_zero_weights_equal_the_sliced_model(self):
        padded = build("D", dummy_heads=3)
        plain = build("D")
        c, cp = padded.config.vision.hidden_size, padded.config.vision.padded_width
        sliced = {}
        for name, value in padded.state_dict().items():
            if name.endswith("attn.qkv.weight"):
                value = torch.cat([value[i * cp:i * cp + c] for i in range(3)])
            elif name.endswith(("attn.q_norm.weight", "attn.k_norm.weight")):
                value = value[:c]
            elif name.endswith("attn.proj.weight"):
                value = value[:, :c]
            sliced[name] = value
        plain.load_state_dict(sliced, strict=True)
        pixels = torch.randn(2, 3, 112, 112, dtype=torch.float64)
        with torch.no_grad():
            torch.testing.assert_close(padded.vision_model(pixels), plain.vision_model(pixels),
                                       rtol=1e-12, atol=1e-12)

    def test_qk_norm_statistic_uses_the_real_channels_only(self):
        norm = nvlm_ref.RMSNorm(12, 1e-6, stat_width=8).double()
        x = torch.randn(5, 12, dtype=torch.float64)
        want = x / torch.sqrt((x[:, :8] ** 2).mean(-1, keepdim=True) + 1e-6)
        torch.testing.assert_close(norm(x), want)

    def test_300m_style_vision_runs_layer_norm_with_qkv_bias(self):
        model = build("D", vision_style="300m")
        names = set(model.state_dict())
        self.assertIn("vision_model.encoder.layers.0.attn.qkv.bias", names)
        self.assertIn("vision_model.encoder.layers.0.norm1.bias", names)
        self.assertNotIn("vision_model.encoder.layers.0.attn.q_norm.weight", names)
        self.assertIsInstance(model.vision_model.encoder.layers[0].norm1, nvlm_ref.LayerNorm)


class Architectures(unittest.TestCase):
    def test_decoder_equals_a_slow_rewrite_of_spec_5(self):
        model = build("D")
        batch = batch_for(model, images=0, rows=0, text_only_rows=1)
        ids = batch.input_ids[0, :24]
        with torch.no_grad():
            fast = model.language_model(model.embed_tokens(ids[None]))[0]
            slow = slow_decoder_logits(model, ids)
        torch.testing.assert_close(fast, slow, rtol=1e-10, atol=1e-12)

    def test_d_with_zero_images_equals_the_plain_decoder(self):
        model = build("D")
        batch = batch_for(model, images=0, rows=0, text_only_rows=2)
        self.assertEqual(batch.pixel_values.shape[0], 0)
        with torch.no_grad():
            logits = model(batch)
        torch.testing.assert_close(logits, plain_decoder_logits(model, batch.input_ids), rtol=1e-12, atol=1e-12)

    def test_d_places_tile_features_at_image_context_positions_in_order(self):
        model = build("D")
        batch = batch_for(model, tiles=[3, 1])
        context = batch.input_ids == model.config.token("image_context")
        with torch.no_grad():
            features = model.image_features(batch.pixel_values.double()).reshape(-1, 128)
            embeds = model.embed_with_images(batch.input_ids, features, "test")
        torch.testing.assert_close(embeds[context], features, rtol=0, atol=0)
        torch.testing.assert_close(embeds[~context], model.embed_tokens(batch.input_ids)[~context], rtol=0, atol=0)

    def test_d_rejects_an_image_token_count_that_disagrees_with_pixel_values(self):
        model = build("D")
        arrays = make_batch.make_batch(model.config, 3, tiles=[3])
        arrays["pixel_values"] = arrays["pixel_values"][:2]
        arrays["image_tiles"] = np.array([2], dtype=np.int64)
        arrays["tile_tag_ids"] = arrays["tile_tag_ids"][:2]
        arrays["media_tile"] = np.minimum(arrays["media_tile"], 1)
        with self.assertRaisesRegex(ValueError, r"48 image-context tokens .* gives 32"):
            model(Batch.from_arrays(arrays))

    def test_text_only_samples_pass_through_x_and_h_unchanged_whatever_the_gates(self):
        for arch in ("X", "H"):
            with self.subTest(arch=arch):
                model = build(arch, random_gates=True)
                batch = batch_for(model, tiles=[5, 3], rows=1, text_only_rows=1)
                text_row = 1
                self.assertTrue(bool((batch.media_image[text_row] == -1).all()))
                with torch.no_grad():
                    logits = model(batch)
                    for block in model.language_model.model.xattn_layers:
                        block.attn_gate.fill_(3.0)
                        block.ff_gate.fill_(-2.0)
                        for p in block.attn.parameters():
                            p.normal_()
                    again = model(batch)
                self.assertTrue(torch.equal(logits[text_row], again[text_row]))
                self.assertFalse(torch.equal(logits[0], again[0]))  # the image row did see the blocks
                plain = plain_decoder_logits(model, batch.input_ids[text_row:text_row + 1])[0]
                torch.testing.assert_close(logits[text_row], plain, rtol=1e-12, atol=1e-12)
                for delta in xattn_deltas(model, batch):
                    self.assertTrue(bool((delta[batch.media_image == -1] == 0).all()))

    def test_x_changing_tile_j_changes_xattn_outputs_only_where_tile_j_is_seen(self):
        model = build("X", random_gates=True)
        batch = batch_for(model, tiles=[5, 3], rows=1, text_only_rows=1)
        image, j = 0, 2
        before = xattn_deltas(model, batch)[0]  # block 0: its input does not depend on pixels
        first = int(batch.tile_offsets[image])
        batch.pixel_values[first + j] = torch.randn_like(batch.pixel_values[first + j])
        after = xattn_deltas(model, batch)[0]
        changed = (before != after).any(-1)
        sees_j = (batch.media_image == image) & ((batch.media_tile == j) | (batch.media_tile == -1))
        self.assertTrue(bool(sees_j.any()))
        self.assertTrue(torch.equal(changed, sees_j))
        tag_j = (batch.media_image == image) & (batch.media_tile == j)
        self.assertGreater(int(tag_j.sum()), 0)

    def test_x_and_h_blocks_equal_a_slow_reading_of_spec_10_masks(self):
        for arch, spelling in (("X", "special"), ("H", "special"), ("H", "bytes"), ("X", "bytes")):
            with self.subTest(arch=arch, tags=spelling):
                model = build(arch, random_gates=True)
                batch = batch_for(model, tiles=[4, 1, 3], rows=2, text_only_rows=1, tag_spelling=spelling)
                block = model.language_model.model.xattn_layers[0]
                captured = {}
                hook = block.register_forward_hook(lambda m, i, o: captured.update(x=i[0], y=o))
                with torch.no_grad():
                    model(batch)
                    features = model.image_features(batch.pixel_values.double())
                    slow = slow_gated_block(block, model.config.llm, captured["x"],
                                            slow_memory_sets(model, batch, features))
                hook.remove()
                torch.testing.assert_close(captured["y"], slow, rtol=1e-10, atol=1e-12)

    def test_h_sequence_receives_each_images_thumbnail_or_single_tile(self):
        model = build("H", random_gates=False)  # closed gates: H is the decoder over the sequence
        batch = batch_for(model, tiles=[3, 1], rows=1, text_only_rows=0)
        with torch.no_grad():
            features = model.image_features(batch.pixel_values.double())
            thumbnails = torch.cat([features[2], features[3]])
            embeds = model.embed_with_images(batch.input_ids, thumbnails, "test")
            torch.testing.assert_close(model(batch), model.language_model(embeds), rtol=1e-12, atol=1e-12)

    def test_batch_validation_names_the_inconsistency(self):
        model = build("X")
        arrays = make_batch.make_batch(model.config, 3, tiles=[3, 1], rows=2, text_only_rows=0)
        swapped = dict(arrays, image_row=arrays["image_row"][::-1].copy())
        with self.assertRaisesRegex(ValueError, "not in batch order"):
            Batch.from_arrays(swapped)
        bad_tile = dict(arrays, media_tile=np.where(arrays["media_image"] == 1, 1, arrays["media_tile"]))
        with self.assertRaisesRegex(ValueError, "media_tile outside"):
            Batch.from_arrays(bad_tile)

    def test_x_rejects_image_context_tokens(self):
        model = build("X")
        arrays = make_batch.make_batch(model.config, 3, tiles=[1])
        arrays["input_ids"][0, 3] = model.config.token("image_context")
        with self.assertRaisesRegex(ValueError, "NVLM-X takes no image-context tokens"):
            model(Batch.from_arrays(arrays))

    def test_xattn_placement_is_before_every_layer_i_with_i_plus_1_divisible(self):
        model = build("X")
        self.assertEqual(model.language_model.model.xattn_before, {1: 0, 3: 1})
        llm = nvlm_ref.LlmConfig(hidden_size=4, num_layers=7, num_heads=1, num_kv_heads=1, intermediate_size=4,
                                 vocab_size=4)
        blocks = nvlm_ref.Qwen2Model(llm, 3)
        self.assertEqual(blocks.xattn_before, {2: 0, 5: 1})
        self.assertEqual(len(blocks.xattn_layers), 2)


class Loss(unittest.TestCase):
    def test_loss_equals_a_manual_shifted_mean_over_labelled_tokens(self):
        model = build("H")
        batch = batch_for(model)
        with torch.no_grad():
            logits, loss = model.loss(batch)
        total, count = 0.0, 0
        for b in range(logits.shape[0]):
            for t in range(logits.shape[1] - 1):
                target = int(batch.labels[b, t + 1])
                if target == -100:
                    continue
                row = logits[b, t]
                total += float(torch.logsumexp(row, 0) - row[target])
                count += 1
        self.assertGreater(count, 0)
        self.assertAlmostEqual(float(loss), total / count, places=12)

    def test_labels_cover_answers_and_their_im_end_only(self):
        model = build("D")
        arrays = make_batch.make_batch(model.config, 4)
        ids, labels = arrays["input_ids"], arrays["labels"]
        labelled = labels != -100
        self.assertTrue(np.array_equal(labels[labelled], ids[labelled]))
        im_end = model.config.token("im_end")
        answers = 0
        for b in range(ids.shape[0]):
            runs = np.flatnonzero(np.diff(np.concatenate([[0], labelled[b].astype(int), [0]])))
            for start, stop in zip(runs[::2], runs[1::2]):
                self.assertEqual(ids[b, stop - 1], im_end)  # each answer closes with <|im_end|>
                answers += 1
        self.assertEqual(answers, 3 + 1)  # one per image and one for the text-only row

    def test_a_batch_without_labels_is_an_error(self):
        model = build("D")
        batch = batch_for(model, images=0, rows=0, text_only_rows=1)
        batch.labels.fill_(-100)
        with self.assertRaisesRegex(ValueError, "no labelled tokens"):
            model.loss(batch)


class Gradients(unittest.TestCase):
    """torch.autograd.gradcheck (float64, finite differences) on the micro preset."""

    def check(self, arch):
        model = build(arch, preset="micro", random_gates=True)
        batch = batch_for(model, tiles=[3, 1], rows=2, text_only_rows=1, max_text=3)
        names = [n for n, _ in model.named_parameters()]
        values = [p.detach().clone().requires_grad_(True) for p in model.parameters()]
        pixels = batch.pixel_values.double().requires_grad_(True)

        def loss_of(pixel_values, *params):
            slots = []
            for name, value in zip(names, params):
                owner, _, leaf = name.rpartition(".")
                module = model.get_submodule(owner)
                slots.append((module, leaf, module._parameters[leaf]))
                module._parameters[leaf] = value
            try:
                b = Batch(**{k: getattr(batch, k) for k in nvlm_ref.BATCH_FIELDS})
                b.pixel_values = pixel_values
                return model.loss(b)[1]
            finally:
                for module, leaf, original in slots:
                    module._parameters[leaf] = original

        # Fast mode: per input tensor, the derivative along a random direction, which checks every
        # parameter tensor's gradient separately at a few forwards each.
        self.assertTrue(torch.autograd.gradcheck(loss_of, (pixels, *values), eps=1e-6, atol=1e-8, rtol=1e-5,
                                                 fast_mode=True))
        # Full mode (every element, two forwards each) on the smallest tensors: the gates and the
        # kv biases; all 8282 elements would take minutes.
        small = [i for i, v in enumerate(values) if v.numel() <= 4]
        self.assertGreaterEqual(len(small), 4)

        def loss_of_small(*subset):
            full = list(values)
            for i, v in zip(small, subset):
                full[i] = v
            return loss_of(pixels.detach(), *full)

        self.assertTrue(torch.autograd.gradcheck(loss_of_small, tuple(values[i] for i in small), eps=1e-6,
                                                 atol=1e-8, rtol=1e-5))

    def test_gradcheck_nvlm_d(self):
        self.check("D")

    def test_gradcheck_nvlm_x(self):
        self.check("X")

    def test_gradcheck_nvlm_h(self):
        self.check("H")


class Checkpoints(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="nvlm-ref-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, arch="X", **kwargs):
        out = os.path.join(self.dir, name)
        config = make_model.make_config(arch, "tiny", seed=5, random_gates=True,
                                        vision_style=kwargs.pop("vision_style", "6b"))
        make_model.write_model(out, config, 5, random_gates=True, **kwargs)
        return out

    def test_make_model_round_trips_through_strict_loading(self):
        reference = self.write("f32")
        expected = nvlm_ref.state_dict_arrays(nvlm_ref.load_model(reference, torch.float32))
        variants = {"hf": dict(hf_names=True), "sharded": dict(shard_bytes=300_000),
                    "bf16": dict(dtype="bf16"), "f16-hf-sharded": dict(dtype="f16", hf_names=True, shard_bytes=10**6)}
        for name, kwargs in variants.items():
            with self.subTest(variant=name):
                folder = self.write(name, **kwargs)
                got = nvlm_ref.state_dict_arrays(nvlm_ref.load_model(folder, torch.float32))
                self.assertEqual(set(got), set(expected))
                for key, value in expected.items():
                    if "bf16" in name:
                        value = st_io.bf16_bits_to_f32(st_io.f32_to_bf16_bits(value))
                    elif "f16" in name:
                        value = value.astype(np.float16).astype(np.float32)
                    np.testing.assert_array_equal(got[key], value, err_msg=key)
        self.assertGreater(len(os.listdir(os.path.join(self.dir, "sharded"))), 3)
        with open(os.path.join(self.dir, "sharded", st_io.INDEX_FILE)) as f:
            index = json.load(f)
        self.assertEqual(index["metadata"]["total_size"], sum(v.size * 4 for v in expected.values()))

    def test_hf_names_are_transformers_internvl_names(self):
        folder = self.write("hf", arch="D", hf_names=True, vision_style="300m")
        names = set(st_io.load_checkpoint(folder))
        self.assertIn("model.vision_tower.encoder.layer.0.attention.q_proj.bias", names)
        self.assertIn("model.vision_tower.encoder.layer.3.lambda_2", names)
        self.assertIn("model.multi_modal_projector.linear_2.weight", names)
        self.assertIn("model.language_model.layers.2.self_attn.k_proj.bias", names)
        self.assertIn("lm_head.weight", names)
        self.assertFalse([n for n in names if "qkv" in n or n.startswith(("vision_model", "language_model", "mlp1"))])

    def test_missing_unexpected_and_wrong_shaped_tensors_are_named_in_one_error(self):
        folder = self.write("broken")
        path = os.path.join(folder, st_io.SINGLE_FILE)
        tensors = st_io.load_file(path)
        del tensors["language_model.model.norm.weight"]
        tensors["language_model.model.extra.weight"] = np.zeros(3, np.float32)
        tensors["mlp1.1.weight"] = np.zeros((4, 4), np.float32)
        st_io.save_file(tensors, path)
        with self.assertRaises(nvlm_ref.CheckpointMismatch) as caught:
            nvlm_ref.load_model(folder)
        message = str(caught.exception)
        self.assertIn("missing: language_model.model.norm.weight", message)
        self.assertIn("unexpected: language_model.model.extra.weight", message)
        self.assertIn("wrong shape: mlp1.1.weight: checkpoint (4, 4), model (128, 256)", message)

    def test_position_grid_of_the_checkpoint_is_resized(self):
        folder = self.write("grid", position_grid=6)
        model = nvlm_ref.load_model(folder)
        self.assertEqual(tuple(model.vision_model.embeddings.position_embedding.shape), (1, 37, 64))
        batch = batch_for(model, tiles=[1], rows=1, text_only_rows=0)
        with torch.no_grad():
            self.assertTrue(bool(torch.isfinite(model(batch)).all()))

    def test_make_model_is_deterministic_and_seed_dependent(self):
        a, b, c = self.write("a"), self.write("b"), os.path.join(self.dir, "c")
        make_model.write_model(c, make_model.make_config("X", "tiny", seed=6), 6)
        read = lambda d: read_bytes(os.path.join(d, st_io.SINGLE_FILE))
        self.assertEqual(read(a), read(b))
        self.assertNotEqual(read(a), read(c))

    def test_init_stream_is_the_documented_splitmix64(self):
        """Pure-Python integers against make_model's numpy version (README.md's formula)."""
        mask = (1 << 64) - 1

        def mix(z):
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
            return z ^ (z >> 31)

        h = 0xCBF29CE484222325
        for byte in b"mlp1.1.weight":
            h = ((h ^ byte) * 0x100000001B3) & mask
        self.assertEqual(make_model.fnv1a64("mlp1.1.weight"), h)
        key = mix((7 ^ h) & mask)
        want = [(mix((key + i * 0x9E3779B97F4A7C15) & mask) >> 40) / 2 ** 24 for i in range(1, 6)]
        np.testing.assert_array_equal(make_model.uniform01(7, "mlp1.1.weight", 5), want)
        w = make_model.init_tensor(7, "mlp1.1.weight", (5,), 0.0, 0.02)
        np.testing.assert_array_equal(w, np.float32([(2 * u - 1) * (0.02 * math.sqrt(3)) for u in want]))


class SafetensorsFiles(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="nvlm-st-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_round_trip_of_every_dtype_with_an_aligned_header(self):
        rng = np.random.default_rng(0)
        tensors = {"f64": rng.standard_normal((2, 3)), "f32": rng.standard_normal((5,)).astype(np.float32),
                   "f16": rng.standard_normal((3, 1)).astype(np.float16), "i64": np.arange(7, dtype=np.int64),
                   "i32": np.arange(-3, 3, dtype=np.int32).reshape(2, 3), "scalar": np.array(2.5, np.float32),
                   "empty": np.zeros((0, 4), np.float32)}
        path = os.path.join(self.dir, "t.safetensors")
        st_io.save_file(tensors, path)
        with open(path, "rb") as f:
            self.assertEqual(int.from_bytes(f.read(8), "little") % 8, 0)
        back = st_io.load_file(path)
        for k, v in tensors.items():
            self.assertEqual(back[k].dtype, v.dtype, k)
            np.testing.assert_array_equal(back[k], v, err_msg=k)
        self.assertEqual(st_io.file_dtypes(path)["f16"], "F16")

    def test_bf16_rounds_to_nearest_even(self):
        x = np.array([1.0, 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, -2.5, np.inf, 1.0 + 2 ** -8 + 2 ** -20],
                     dtype=np.float32)
        back = st_io.bf16_bits_to_f32(st_io.f32_to_bf16_bits(x))
        np.testing.assert_array_equal(back, [1.0, 1.0, 1.0 + 4 * 2 ** -8, -2.5, np.inf, 1.0 + 2 ** -7])
        self.assertTrue(np.isnan(st_io.bf16_bits_to_f32(st_io.f32_to_bf16_bits(np.array([np.nan], np.float32)))[0]))
        path = os.path.join(self.dir, "b.safetensors")
        st_io.save_file({"w": x}, path, dtype="BF16")
        self.assertEqual(os.path.getsize(path) - 8 - int.from_bytes(read_bytes(path)[:8], "little"), 2 * x.size)
        np.testing.assert_array_equal(st_io.load_file(path)["w"], back)

    def test_malformed_files_are_named_errors(self):
        path = os.path.join(self.dir, "bad.safetensors")
        st_io.save_file({"a": np.ones(4, np.float32)}, path)
        data = read_bytes(path)
        cases = {"truncated": data[:-3], "short": data[:5],
                 "huge header": (10 ** 9).to_bytes(8, "little") + data[8:]}
        for label, content in cases.items():
            with self.subTest(case=label):
                with open(path, "wb") as f:
                    f.write(content)
                with self.assertRaisesRegex(st_io.SafetensorsError, "bad.safetensors"):
                    st_io.load_file(path)


class CommandLine(unittest.TestCase):
    def test_make_model_make_batch_run_ref_end_to_end(self):
        folder = tempfile.mkdtemp(prefix="nvlm-cli-")
        try:
            model_dir = os.path.join(folder, "m")
            make_model.main(["--arch", "h", "--preset", "tiny", "--seed", "3", "--out", model_dir, "--dtype", "bf16",
                             "--shard-bytes", "2000000", "--random-gates"])
            batch = os.path.join(folder, "b.safetensors")
            make_batch.main(["--model", model_dir, "--seed", "3", "--out", batch, "--tiles", "3,1"])
            out = os.path.join(folder, "o.safetensors")
            run_ref.main(["--model", model_dir, "--batch", batch, "--out", out, "--grads", "--dtype", "float32"])
            result = st_io.load_file(out)
            arrays = st_io.load_file(batch)
            b, t = arrays["input_ids"].shape
            self.assertEqual(result["logits"].shape, (b, t, 320))
            self.assertEqual(result["loss"].shape, ())
            params = nvlm_ref.load_model(model_dir).state_dict()
            self.assertEqual({k[5:] for k in result if k.startswith("grad.")}, set(params))
            for name, value in params.items():
                self.assertEqual(result["grad." + name].shape, tuple(value.shape))
            self.assertGreater(np.abs(result["grad.vision_model.embeddings.patch_embedding.weight"]).max(), 0)
            self.assertGreater(np.abs(result["grad.language_model.model.xattn_layers.1.attn.k_proj.weight"]).max(), 0)
        finally:
            shutil.rmtree(folder)


class Goldens(unittest.TestCase):
    def test_checked_in_goldens_are_reproduced(self):
        import make_goldens
        golden = os.path.join(HERE, "golden")
        if not os.path.isdir(golden):
            self.skipTest(f"{golden} not present (make_goldens.py writes it)")
        fresh = tempfile.mkdtemp(prefix="nvlm-golden-test-")
        try:
            make_goldens.generate(fresh)
            self.assertEqual(make_goldens.compare(golden, fresh), [])
        finally:
            shutil.rmtree(fresh)


if __name__ == "__main__":
    unittest.main()
