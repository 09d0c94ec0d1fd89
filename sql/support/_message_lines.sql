-- Support query of `aedb report`: the message lines of one log of the
-- batch for one category and item (a row of _message_logs.sql), in line
-- order; the finding_batch_log index delivers them without a sort.
SELECT f.line_no, f.id, f.message
FROM finding f
WHERE f.batch_id = :batch AND f.category = :category AND f.log_ref = :log AND f.item_id IS :item
ORDER BY f.line_no, f.id;
