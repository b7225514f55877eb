-- Portable between SQLite and PostgreSQL: times are epoch milliseconds (UTC), money is a double
-- in the configured currency, stored per row so later price changes never rewrite history.
CREATE TABLE api_keys (
  id            VARCHAR(32)  PRIMARY KEY,
  name          VARCHAR(200) NOT NULL,
  key_hash      VARCHAR(64)  NOT NULL UNIQUE,
  prefix        VARCHAR(16)  NOT NULL,
  created_ms    BIGINT       NOT NULL,
  expires_ms    BIGINT,
  revoked_ms    BIGINT,
  rpm           INTEGER,
  tpm           INTEGER,
  max_concurrent INTEGER,
  budget        DOUBLE PRECISION,
  budget_period VARCHAR(8)
);
CREATE UNIQUE INDEX api_keys_name ON api_keys(name);

CREATE TABLE usage_records (
  request_id        VARCHAR(64)  PRIMARY KEY,
  ts_ms             BIGINT       NOT NULL,
  key_id            VARCHAR(32),
  client_ip         VARCHAR(64),
  route             VARCHAR(64)  NOT NULL,
  model             VARCHAR(200),
  image_count       INTEGER      NOT NULL,
  image_hash        VARCHAR(400),
  text_tokens       INTEGER      NOT NULL,
  image_tokens      INTEGER      NOT NULL,
  cached_tokens     INTEGER      NOT NULL,
  completion_tokens INTEGER      NOT NULL,
  queue_ms          DOUBLE PRECISION NOT NULL,
  vision_ms         DOUBLE PRECISION NOT NULL,
  prefill_ms        DOUBLE PRECISION NOT NULL,
  decode_ms         DOUBLE PRECISION NOT NULL,
  busy_ms           DOUBLE PRECISION NOT NULL,
  latency_ms        DOUBLE PRECISION NOT NULL,
  status            INTEGER      NOT NULL,
  finish_reason     VARCHAR(32),
  cost              DOUBLE PRECISION NOT NULL,
  reference_cost    DOUBLE PRECISION NOT NULL,
  currency          VARCHAR(8)   NOT NULL
);
CREATE INDEX usage_records_ts ON usage_records(ts_ms);
CREATE INDEX usage_records_key_ts ON usage_records(key_id, ts_ms);
