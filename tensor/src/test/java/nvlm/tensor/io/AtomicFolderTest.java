package nvlm.tensor.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every state a replace can be killed in leaves the target naming a complete folder (the old or
 * the new one), and the next replace cleans up what the killed one left. The states are made by
 * hand here, as the steps of {@link AtomicFolder#replace} leave them; the trainer's kill -9 loop
 * (CrashSafeCheckpointTest) kills real saves.
 */
class AtomicFolderTest {
    @TempDir
    Path dir;

    private static AtomicFolder.Contents files(String text) {
        return folder -> {
            Files.writeString(folder.resolve("a.txt"), text);
            Files.writeString(folder.resolve("b.txt"), text + text);
        };
    }

    /** The target's contents as read through it: "a.txt|b.txt", or an exception when it names no complete folder. */
    private static String read(Path target) throws IOException {
        return Files.readString(target.resolve("a.txt")) + "|" + Files.readString(target.resolve("b.txt"));
    }

    private List<String> entries() throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aReplaceIsOneLinkSwitchedByOneRenameAndLeavesOneVersion() throws IOException {
        Path target = dir.resolve("model");
        assertEquals(AtomicFolder.Outcome.LINKED, AtomicFolder.replace(target, files("old")));
        assertEquals("old|oldold", read(target));
        assertTrue(Files.isSymbolicLink(target));
        assertEquals(Path.of(".model-1"), Files.readSymbolicLink(target), "relative: the run folder can be moved");
        AtomicFolder.replace(target, files("new"));
        assertEquals("new|newnew", read(target));
        assertEquals(List.of(".model-2", "model"), entries());
    }

    @Test
    void aReplaceKilledBeforeItsRenameLeavesTheOldFolderAndIsCleanedUpByTheNext() throws IOException {
        Path target = dir.resolve("model");
        AtomicFolder.replace(target, files("old"));
        // killed while writing the new version: half its files
        Path partial = Files.createDirectories(dir.resolve(".model-2"));
        Files.writeString(partial.resolve("a.txt"), "ne");
        assertEquals("old|oldold", read(target));
        // killed after the new version was complete and its link made, before the rename
        Files.writeString(partial.resolve("a.txt"), "new");
        Files.writeString(partial.resolve("b.txt"), "newnew");
        Files.createSymbolicLink(dir.resolve(".model.link"), Path.of(".model-2"));
        assertEquals("old|oldold", read(target));
        // killed after the rename, while deleting the old version
        Files.move(dir.resolve(".model.link"), target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Files.delete(dir.resolve(".model-1/a.txt"));
        assertEquals("new|newnew", read(target));

        AtomicFolder.replace(target, files("third"));
        assertEquals("third|thirdthird", read(target));
        assertEquals(List.of(".model-3", "model"), entries());
    }

    @Test
    void aRealFolderFromAnOlderBuildIsReplacedAndAKillBetweenItsTwoStepsIsRecovered() throws IOException {
        Path target = dir.resolve("model");
        Files.createDirectories(target);
        files("legacy").writeTo(target);
        AtomicFolder.replace(target, files("new"));
        assertEquals("new|newnew", read(target));
        assertTrue(Files.isSymbolicLink(target));
        assertEquals(List.of(".model-1", "model"), entries());

        // the state a kill leaves between moving a real folder aside and the link's rename
        AtomicFolder.delete(target);
        Path legacy = Files.createDirectories(dir.resolve(".model-0"));
        files("legacy").writeTo(legacy);
        assertFalse(Files.exists(target, LinkOption.NOFOLLOW_LINKS));
        AtomicFolder.replace(target, folder -> {
            // the old folder is linked back before the new one is written
            assertEquals("legacy|legacylegacy", read(target));
            files("new").writeTo(folder);
        });
        assertEquals("new|newnew", read(target));
        assertEquals(List.of(".model-1", "model"), entries());
    }

    @Test
    void aFailingWriteLeavesTheOldFolderAndDeleteRemovesEveryVersionButNothingElse() throws IOException {
        Path target = dir.resolve("model");
        AtomicFolder.replace(target, files("old"));
        IOException failed = assertThrows(IOException.class, () -> AtomicFolder.replace(target, folder -> {
            Files.writeString(folder.resolve("a.txt"), "half");
            throw new IOException("disk full");
        }));
        assertEquals("disk full", failed.getMessage());
        assertEquals("old|oldold", read(target));
        Files.writeString(dir.resolve("model.txt"), "not a version");
        Files.createDirectories(dir.resolve(".model-x"));
        AtomicFolder.delete(target);
        assertEquals(List.of(".model-x", "model.txt"), entries());
    }
}
