package dev.glance.server.api;

import dev.glance.engine.image.RgbImage;

/**
 * An image fetched and decoded, with what the request log records about it.
 *
 * @param param the request field it came from
 * @param image the decoded pixels
 * @param format the sniffed file format ("png", "jpeg"...)
 * @param bytes the encoded size
 * @param sha256 hex SHA-256 of the encoded bytes, to recognise the same image across requests
 */
public record LoadedImage(String param, RgbImage image, String format, long bytes, String sha256) {}
