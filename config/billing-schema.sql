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
    acked                    BIGINT NOT NULL,     -- TCP: bytes of the initiator's stream the responder acknowledged
    rev_acked                BIGINT NOT NULL,     -- TCP: bytes of the responder's stream the initiator acknowledged
    retx                     BIGINT NOT NULL,     -- TCP: payload bytes the initiator sent again
    rev_retx                 BIGINT NOT NULL,     -- TCP: payload bytes the responder sent again
    tcp_valid                SMALLINT NOT NULL,   -- wtTcpFiguresValid: 1 TCP figures, 2 acked meaningful, 4 rev_acked meaningful
    flow_end_reason          SMALLINT NOT NULL,   -- IPFIX flowEndReason (docs/IPFIX.md section 3)
    wt_end_reason            SMALLINT NOT NULL,   -- 1 idle, 2 active (interim), 3 evicted, 4 shutdown
    biflow_direction         SMALLINT NOT NULL,   -- 1: forward is the initiator, 0: unknown
    PRIMARY KEY (call_id, wt_seq)
);

-- A connection's totals: every record of one call_id (interim records of
-- a long call and its final record) added up, per direction. One row per
-- connection; query it by call_id or by endpoint.
--
-- What to charge: for TCP, the bytes the other side acknowledged (record
-- version 2: a byte counts when the ACK of it is seen, so a retransmission
-- is never charged twice and bytes never delivered are not charged); for
-- other protocols, and for a TCP direction whose acknowledgements the tap
-- never saw (one-sided capture, or a log of record version 1), the payload
-- bytes that crossed the wire. charge_basis says which: 'acked',
-- 'payload', or 'mixed' (some records one way, some the other). The wire
-- figures stay beside them.
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
       sum(CASE WHEN tcp_valid & 2 <> 0 THEN acked ELSE payload END)         AS initiator_charged_bytes,
       sum(CASE WHEN tcp_valid & 4 <> 0 THEN rev_acked ELSE rev_payload END) AS responder_charged_bytes,
       sum(retx)         AS initiator_retx_bytes,
       sum(rev_retx)     AS responder_retx_bytes,
       CASE WHEN bool_and(tcp_valid & 6 = 6) THEN 'acked'
            WHEN bool_and(tcp_valid & 6 = 0) THEN 'payload'
            ELSE 'mixed' END AS charge_basis,
       min(wt_seq)       AS first_seq,
       max(wt_seq)       AS last_seq
  FROM wt_calls
 GROUP BY call_id, ip_src, port_src, ip_dst, port_dst, ip_proto, vlan;
