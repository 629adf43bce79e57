-- Reserved for its issue; filled by hand.
SELECT 1;
