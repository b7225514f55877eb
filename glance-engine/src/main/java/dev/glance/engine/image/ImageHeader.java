package dev.glance.engine.image;

/**
 * The size an encoded image declares in its header, read without decoding any pixel: enough to
 * estimate what the image will cost (its placeholder tokens) before paying for the decode.
 *
 * @param width pixels across
 * @param height pixels down
 */
public record ImageHeader(int width, int height) {}
