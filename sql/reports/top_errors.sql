-- Which error messages occur most often in the batch's logs, in how many
-- items, and where to look first? The 100 most frequent (category,
-- message) pairs of the failure categories, with the first and last item.
WITH e AS (
  SELECT category, message, count(*) AS lines, count(DISTINCT item_id) AS items,
         min(item_id) AS first_item, max(item_id) AS last_item
  FROM finding
  WHERE batch_id = :batch AND category IN ('failed', 'job_error', 'agr_mos_error', 'inundate_error')
  GROUP BY category, message
)
SELECT e.category, e.message, e.lines, e.items,
       trim(coalesce((SELECT name FROM item WHERE id = e.first_item), '') || ' ' ||
            coalesce((SELECT name FROM item WHERE id = e.last_item AND e.last_item <> e.first_item), ''))
         AS example_items
FROM e
ORDER BY e.lines DESC, e.category, e.message
LIMIT 100;
