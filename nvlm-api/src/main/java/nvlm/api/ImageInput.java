package nvlm.api;

import java.io.IOException;
import java.nio.file.Path;
import nvlm.model.tiling.ImageLoader;
import nvlm.model.tiling.RgbImage;

/** An image to ask about: a file, encoded bytes (PNG, JPEG, BMP, GIF) or decoded RGB pixels. */
public sealed interface ImageInput {
    /** Decodes the image (at most {@code maxPixels} pixels). */
    RgbImage decode(long maxPixels) throws IOException;

    static ImageInput file(Path file) {
        return new File(file);
    }

    /** {@code name} says where the bytes came from in errors. */
    static ImageInput bytes(byte[] encoded, String name) {
        return new Bytes(encoded.clone(), name);
    }

    static ImageInput pixels(RgbImage image) {
        return new Pixels(image);
    }

    record File(Path path) implements ImageInput {
        @Override
        public RgbImage decode(long maxPixels) throws IOException {
            return new ImageLoader(maxPixels).load(path);
        }
    }

    record Bytes(byte[] encoded, String name) implements ImageInput {
        @Override
        public RgbImage decode(long maxPixels) throws IOException {
            return new ImageLoader(maxPixels).load(encoded, name);
        }
    }

    record Pixels(RgbImage image) implements ImageInput {
        @Override
        public RgbImage decode(long maxPixels) throws IOException {
            if ((long) image.width() * image.height() > maxPixels) {
                throw new IOException("image is " + image.width() + "x" + image.height() + ", more than the limit of " + maxPixels
                        + " pixels");
            }
            return image;
        }
    }
}
