-- A request may carry several images (--max-images, 8 by default): their comma-joined SHA-256
-- hashes outgrow VARCHAR(400), which PostgreSQL enforces. Portable: SQLite 3.35+ drops columns.
ALTER TABLE usage_records ADD COLUMN image_hashes TEXT;
UPDATE usage_records SET image_hashes = image_hash;
ALTER TABLE usage_records DROP COLUMN image_hash;
