-- SPDX-License-Identifier: BSD-3-Clause
-- billing-schema.sql: the PostgreSQL table nfacctd (config/nfacctd-billing.conf) fills with wiretally's call records, and the per-connection billing view.
--
-- One row per call record (wiretally's seq and call_id are part of
-- nfacctd's aggregation key, so it never sums two records into one row).
-- Forward = the connection's initiator when the monitor saw the SYN, else
-- endpoint a (biflow_direction 1 or 0): docs/IPFIX.md section 1.
-- Load with: psql -d wiretally -f config/billing-schema.sql

CREATE TABLE IF NOT EXISTS wt_calls (
    call_id                  CHAR(47) NOT NULL,   -- wtCallId as nfacctd writes raw bytes: 16 hex pairs joined by '-'
    wt_seq                   BIGINT NOT NULL,     -- wtRecordSeq: the record's seq in the monitor's log
    ip_src                   inet NOT NULL,       -- forward endpoint (initiator)
    port_src                 INT NOT NULL,
    ip_dst                   inet NOT NULL,       -- reverse endpoint (responder)
    port_dst                 INT NOT NULL,
    ip_proto                 SMALLINT NOT NULL,
    vlan                     INT NOT NULL,
    mac_src                  macaddr NOT NULL,    -- source MAC of the initiator's first packet
    tcp_flags                SMALLINT NOT NULL,   -- union of the initiator's TCP flags
    timestamp_start          timestamp without time zone NOT NULL,  -- first packet (UTC), seconds
    timestamp_start_residual INT NOT NULL,                          -- and microseconds (whole ms)
    timestamp_end            timestamp without time zone NOT NULL,  -- last packet
    timestamp_end_residual   INT NOT NULL,
    packets                  BIGINT NOT NULL,     -- packets the initiator sent
    bytes                    BIGINT NOT NULL,     -- IP bytes the initiator sent
    rev_packets              BIGINT NOT NULL,     -- packets the responder sent
    rev_bytes                BIGINT NOT NULL,     -- IP bytes the responder sent
    payload                  BIGINT NOT NULL,     -- TCP/UDP payload bytes the initiator sent
    rev_payload              BIGINT NOT NULL,     -- TCP/UDP payload bytes the responder sent
    flow_end_reason          SMALLINT NOT NULL,   -- IPFIX flowEndReason (docs/IPFIX.md section 3)
    wt_end_reason            SMALLINT NOT NULL,   -- 1 idle, 2 active (interim), 3 evicted, 4 shutdown
    biflow_direction         SMALLINT NOT NULL,   -- 1: forward is the initiator, 0: unknown
    PRIMARY KEY (call_id, wt_seq)
);

-- A connection's totals: every record of one call_id (interim records of
-- a long call and its final record) added up, per direction. One row per
-- connection; query it by call_id or by endpoint.
CREATE OR REPLACE VIEW wt_billing AS
SELECT lower(replace(call_id, '-', ''))   AS call_id,   -- the CSV's 32 hex digits
       ip_src, port_src, ip_dst, port_dst, ip_proto, vlan,
       min(timestamp_start + timestamp_start_residual * interval '1 microsecond') AS first_packet,
       max(timestamp_end + timestamp_end_residual * interval '1 microsecond')     AS last_packet,
       count(*)          AS records,
       sum(packets)      AS initiator_packets,
       sum(bytes)        AS initiator_ip_bytes,
       sum(payload)      AS initiator_payload_bytes,
       sum(rev_packets)  AS responder_packets,
       sum(rev_bytes)    AS responder_ip_bytes,
       sum(rev_payload)  AS responder_payload_bytes,
       min(wt_seq)       AS first_seq,
       max(wt_seq)       AS last_seq
  FROM wt_calls
 GROUP BY call_id, ip_src, port_src, ip_dst, port_dst, ip_proto, vlan;
