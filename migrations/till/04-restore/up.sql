-- restore: a sale's number sequence (`seq` of the sale record) in the sales
-- projection, so a till continues numbering past the highest number of its
-- own that it holds (after a restore from a backup its later sales come back
-- by sync or bundle), and sales of one till sharing a number are found.
ALTER TABLE sales ADD COLUMN seq INTEGER;
-- Rows projected before this column existed: the number is
-- `{till name}-{seq:06}`, so seq is its trailing digits.
UPDATE sales SET seq = CAST(substr(number, length(rtrim(number, '0123456789')) + 1) AS INTEGER);
CREATE INDEX sales_till_seq ON sales (till_id, seq);
CREATE INDEX sales_till_number ON sales (till_id, number);
