-- The campaign list with channel and platform, to label spend and attribution rows.
SELECT campaign_id, name, channel, platform FROM campaigns ORDER BY campaign_id
