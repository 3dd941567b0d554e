package nvlm.trainer.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One process per run folder: {@code <run>/.lock} is locked (an OS file lock, released by the
 * kernel when the process ends, even on kill -9) while a process trains in the folder, so a
 * second {@code --resume} of a running run is refused instead of truncating its metrics and
 * overwriting its checkpoints. The lock is kept until the process exits; within one process the
 * same folder may be opened again (a stage resumed by the process that started it).
 */
public final class RunLock {
    public static final String FILE = ".lock";
    private static final Map<Path, FileLock> HELD = new ConcurrentHashMap<>();

    private RunLock() {
    }

    /** Locks {@code runDir} for this process, or fails naming the process that holds it. */
    public static synchronized void acquire(Path runDir) throws IOException {
        Path key = runDir.toAbsolutePath().normalize();
        FileLock held = HELD.get(key);
        if (held != null && held.isValid()) {
            return;
        }
        Files.createDirectories(key);
        Path file = key.resolve(FILE);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            String holder = Files.readString(file, StandardCharsets.UTF_8).strip();
            throw new IllegalStateException(runDir + " is in use by another nvlm process" + (holder.isEmpty() ? "" : " (" + holder + ")")
                    + ": wait for it to finish or stop it; one process trains in a run folder at a time (lock file " + file + ")");
        }
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)), 0);
        HELD.put(key, lock);
    }
}
