-- monthly per-branch rollup
SELECT branch_id, local_month, count(*) AS events,
       count(*) FILTER (WHERE event_type = 'quote_created') AS quotes,
       count(*) FILTER (WHERE event_type = 'quote_created' AND terminal IN ('pad', 'phone', 'wechat')) AS mobile_quotes,
       sum(amount) FILTER (WHERE event_type = 'payment_completed') AS payments
FROM events GROUP BY branch_id, local_month ORDER BY branch_id, local_month;
-- per-user top 20 with a filter
SELECT user_id, branch_id, count(*) AS mobile_quotes FROM events
WHERE local_month = '2016-09' AND event_type = 'quote_created' AND terminal IN ('pad', 'phone', 'wechat')
GROUP BY user_id, branch_id ORDER BY mobile_quotes DESC, user_id LIMIT 20;
-- daily time series for one branch
SELECT local_date, count(*) AS events, count(DISTINCT user_id) AS active_users, sum(premium) AS premium
FROM events WHERE branch_id = 'b07' GROUP BY local_date ORDER BY local_date;
