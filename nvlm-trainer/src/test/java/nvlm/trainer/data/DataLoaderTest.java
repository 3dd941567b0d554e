package nvlm.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import nvlm.model.Batch;
import nvlm.model.config.Architecture;
import nvlm.model.prompt.Sample;
import nvlm.model.tokenizer.ProjectTokenizer;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
    private static final SyntheticWorld WORLD = new SyntheticWorld(WorldConfig.defaults(112));

    @Test
    void batchesAreTensorBatchesOfSpec10AndReproducible() {
        WorldDataset data = new WorldDataset(WORLD, Split.TRAIN, TaskBlend.stage2(0.25), 64);
        for (Architecture arch : Architecture.values()) {
            SampleEncoder enc = Models.encoder(arch, 112, SampleEncoder.Options.defaults());
            DataLoader a = new DataLoader(data, enc, 8, 4, 11);
            DataLoader b = new DataLoader(data, enc, 8, 4, 11);
            assertEquals(8, a.batchesPerEpoch());
            DataLoader.Loaded x = a.batch(1, 3);
            DataLoader.Loaded y = b.batch(1, 3);
            assertArrayEquals(x.indices(), y.indices());
            Batch t = x.tensors();
            assertEquals(x.indices().length, t.rows());
            assertArrayEquals(x.arrays().inputIds(), t.inputIds().toLongArray());
            assertArrayEquals(y.arrays().inputIds(), t.inputIds().toLongArray());
            assertArrayEquals(x.arrays().labels(), t.labels().toLongArray());
            assertArrayEquals(x.arrays().mediaImage(), t.mediaImage().toLongArray());
            assertArrayEquals(x.arrays().mediaTile(), t.mediaTile().toLongArray());
            assertArrayEquals(x.arrays().imageTiles(), t.imageTiles().toLongArray());
            assertArrayEquals(x.arrays().imageRow(), t.imageRow().toLongArray());
            assertArrayEquals(x.arrays().tileTagIds(), t.tileTagIds().toLongArray());
            assertArrayEquals(new long[] {x.arrays().tiles(), 3, 112, 112}, t.pixelValues().shape());
            assertArrayEquals(x.arrays().pixelValues(), t.pixelValues().toFloatArray());
            assertArrayEquals(y.arrays().pixelValues(), t.pixelValues().toFloatArray());
            int longest = 0;
            for (Sample s : x.samples()) {
                longest = Math.max(longest, s.length());
            }
            assertEquals(longest, t.length());
            assertEquals(t.labelledTokens(), x.labelledTokens());
            long pads = Arrays.stream(x.arrays().inputIds()).filter(id -> id == ProjectTokenizer.PAD).count();
            assertEquals(t.rows() * t.length() - x.tokens(), pads);
        }
    }

    @Test
    void anEpochVisitsEveryExampleOnceAndLengthsMatchTheSamples() {
        WorldDataset data = new WorldDataset(WORLD, Split.VALIDATION, TaskBlend.stage1(), 40);
        SampleEncoder enc = Models.encoder(Architecture.H, 112, SampleEncoder.Options.defaults());
        DataLoader loader = new DataLoader(data, enc, 6, 3, 2);
        int[] lengths = loader.lengths();
        int[] seen = new int[data.size()];
        var it = loader.epoch(0, 0);
        while (it.hasNext()) {
            DataLoader.Loaded l = it.next();
            for (int k = 0; k < l.indices().length; k++) {
                seen[l.indices()[k]]++;
                assertEquals(lengths[l.indices()[k]], l.samples().get(k).length());
            }
        }
        for (int s : seen) {
            assertEquals(1, s);
        }
    }

    @Test
    void blendsRealizeExactCountsAndTheTextFraction() {
        WorldDataset data = new WorldDataset(WORLD, Split.TRAIN, TaskBlend.stage2(0.3), 1000);
        Map<Family, Integer> counts = new HashMap<>();
        for (int i = 0; i < data.size(); i++) {
            counts.merge(data.entry(i).family(), 1, Integer::sum);
        }
        assertEquals(300, counts.get(Family.TEXT_ARITHMETIC) + counts.get(Family.TEXT_STRING));
        assertEquals(70, (int) counts.get(Family.CAPTION));
        for (Family f : List.of(Family.OCR, Family.COUNTING, Family.SPATIAL, Family.CHART)) {
            assertEquals(157.5, counts.get(f), 0.5 + 1e-9, f.id());
        }
        assertEquals(0.3, TaskBlend.stage2(0.3).textFraction(), 1e-12);
        assertEquals(0, TaskBlend.stage2(0).textFraction(), 1e-12);
        assertEquals(1, TaskBlend.stage0Text().textFraction(), 1e-12);
        for (int i = 0; i < 50; i++) {
            Example e = new WorldDataset(WORLD, Split.TRAIN, TaskBlend.stage0Text(), 50).get(i);
            assertTrue(e.images().isEmpty(), "stage-0 text example with an image: " + e.id());
        }
        // The rows share moves weight from the described view to the rows view, family by family; 0 is the default blend.
        assertEquals(TaskBlend.stage0Text(), TaskBlend.stage0Text(0));
        TaskBlend half = TaskBlend.stage0Text(0.5);
        assertEquals(1, half.textFraction(), 1e-12);
        for (Family f : List.of(Family.OCR, Family.COUNTING, Family.SPATIAL, Family.CHART)) {
            double described = weight(TaskBlend.stage0Text(), f, View.DESCRIBED);
            assertEquals(described / 2, weight(half, f, View.DESCRIBED), 1e-12, f.id());
            assertEquals(described / 2, weight(half, f, View.ROWS), 1e-12, f.id());
        }
        assertEquals(0, weight(TaskBlend.stage0Text(1), Family.OCR, View.DESCRIBED));
        assertThrows(IllegalArgumentException.class, () -> TaskBlend.stage0Text(1.5));
        // 1.5, 0.9, 0.6: floors 1, 0, 0, then the remainders to the largest fractions 0.9 and 0.6.
        assertArrayEquals(new int[] {1, 1, 1}, TaskBlend.apportion(new double[] {0.5, 0.3, 0.2}, 3));
        assertArrayEquals(new int[] {3, 2, 0}, TaskBlend.apportion(new double[] {3, 2, 0}, 5));
    }

    @Test
    void interleavedSourceMixesUserDataWithTextOnlyTasks() {
        WorldDataset images = new WorldDataset(WORLD, Split.TRAIN, TaskBlend.single(Family.OCR), 30);
        WorldDataset text = new WorldDataset(WORLD, Split.TRAIN, TaskBlend.single(Family.TEXT_STRING), 500);
        InterleavedSource m = InterleavedSource.withTextOnly(images, text, 0.2, 100, 9);
        int textOnly = 0;
        for (int i = 0; i < m.size(); i++) {
            Example e = m.get(i);
            if (e.images().isEmpty()) {
                textOnly++;
                assertEquals("text_string", e.family());
            } else {
                assertEquals("ocr", e.family());
            }
            assertEquals(e.outline().turns(), m.outline(i).turns());
        }
        assertEquals(20, textOnly);
        InterleavedSource again = InterleavedSource.withTextOnly(images, text, 0.2, 100, 9);
        for (int i = 0; i < 100; i++) {
            assertEquals(m.get(i).id(), again.get(i).id());
        }
    }

    private static double weight(TaskBlend blend, Family family, View view) {
        return blend.entries().stream().filter(e -> e.family() == family && e.view() == view).mapToDouble(TaskBlend.Entry::weight).sum();
    }
}
