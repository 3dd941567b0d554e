/**
 * Training and evaluation data: the embedded synthetic world, user data in LLaVA's format, and the
 * pipeline that turns either into model batches.
 *
 * <h2>The world</h2>
 * {@link nvlm.trainer.data.SyntheticWorld} draws pictures in memory ({@link nvlm.trainer.data.Scene}:
 * boards of large shapes and short codes, scattered small shapes, bar charts) with a bitmap font
 * kept in the code ({@link nvlm.trainer.data.BitmapFont}), and asks questions about them
 * ({@link nvlm.trainer.data.Family}: captioning, OCR, counting, spatial, chart, and the text-only
 * arithmetic and string tasks). Every sample is a pure function of (seed, split, family, index);
 * {@link nvlm.trainer.data.Split} keeps train, validation and test apart by content.
 * {@link nvlm.trainer.data.WorldConfig} holds the difficulty knobs. Images are exact multiples of
 * the tile size, so tiles are crops of the drawing and each layout cell is one image token; text is
 * halftone, legible in the tiles and averaged away in the thumbnail (which is what dynamic high
 * resolution is for). {@link nvlm.trainer.data.WorldPreview} writes PNG sheets of samples.
 *
 * <h2>Views and conversations</h2>
 * An image task comes in two {@link nvlm.trainer.data.View}s: the picture, or its caption in words
 * (described). A training example may also ask several
 * questions about one picture ({@link nvlm.trainer.data.SyntheticWorld#questions}).
 *
 * <h2>Stage 0</h2>
 * Decoder: {@link nvlm.trainer.data.TaskBlend#stage0Text()}, the text-only tasks and the image tasks
 * in the described view: text only, no image token, favouring no architecture. Vision encoder: the cell symbols of each
 * tile ({@link nvlm.trainer.data.CellSymbols#ofTile}; {@link nvlm.trainer.data.VisionExample} /
 * {@link nvlm.trainer.data.VisionBatch} hold the content classes {@link nvlm.trainer.data.CellClass}
 * and per-tile edge bits for other heads).
 *
 * <h2>Pipeline</h2>
 * An {@link nvlm.trainer.data.ExampleSource} ({@link nvlm.trainer.data.WorldDataset},
 * {@link nvlm.trainer.data.LlavaDataset}, {@link nvlm.trainer.data.InterleavedSource}) yields
 * {@link nvlm.trainer.data.Example}s; {@link nvlm.trainer.data.SampleEncoder} tiles and tokenizes
 * them for one architecture; {@link nvlm.trainer.data.DataLoader} buckets them by length
 * ({@link nvlm.trainer.data.LengthBucketSampler}) and collates them into the tensor
 * {@link nvlm.model.Batch} of docs/model.md §10 ({@link nvlm.model.Batch#of}).
 */
package nvlm.trainer.data;
