-- Custody account × currency × business date: the statement's opening (OPBD) and closing (CLBD)
-- balance, the Σ of its counted signed entries (booked, an entry repeated by an overlapping
-- statement only once: stg_custody__entries.counts) and the previous business day's closing, so
-- that roll-forward (closing = opening + Σ entries) and continuity (opening = previous closing) are
-- one comparison each. SPEC §2: one statement per custody account and day; statement_count shows
-- a violation instead of hiding it.
with ranked_balances as (
    select
        *,
        -- the first OPBD / CLBD row in file order: its file and position are reported together
        row_number() over (
            partition by custody_account, currency, business_date, balance_type
            order by source_file, source_row
        ) as balance_rank
    from {{ ref('stg_custody__balances') }}
),

balances as (
    select
        custody_account,
        currency,
        business_date,
        min(statement_id) as statement_id,
        count(distinct statement_id) as statement_count,
        sum(case when balance_type = 'OPBD' then 1 else 0 end) as opening_rows,
        sum(case when balance_type = 'CLBD' then 1 else 0 end) as closing_rows,
        cast(sum(case when balance_type = 'OPBD' then signed_amount end) as decimal(18, 2)) as opening_balance,
        cast(sum(case when balance_type = 'CLBD' then signed_amount end) as decimal(18, 2)) as closing_balance,
        max(case when balance_type = 'OPBD' and balance_rank = 1 then source_file end) as opening_source_file,
        max(case when balance_type = 'OPBD' and balance_rank = 1 then source_row end) as opening_source_row,
        max(case when balance_type = 'CLBD' and balance_rank = 1 then source_file end) as closing_source_file,
        max(case when balance_type = 'CLBD' and balance_rank = 1 then source_row end) as closing_source_row,
        {{ dbt.listagg('distinct source_file', "', '", 'order by source_file') }} as source_files
    from ranked_balances
    group by 1, 2, 3
),

entries as (
    select
        custody_account,
        currency,
        business_date,
        min(statement_id) as statement_id,
        cast(sum(case when counts then signed_amount else 0 end) as decimal(18, 2)) as entries_total,
        sum(case when counts then 1 else 0 end) as counted_entries,
        sum(case when counts and is_reversal then 1 else 0 end) as reversal_entries,
        sum(case when is_repeated then 1 else 0 end) as repeated_entries,
        sum(case when status <> 'BOOK' then 1 else 0 end) as not_booked_entries
    from {{ ref('stg_custody__entries') }}
    group by 1, 2, 3
),

statement_days as (
    select custody_account, currency, business_date from balances
    union
    select custody_account, currency, business_date from entries
),

joined as (
    select
        d.custody_account,
        d.currency,
        d.business_date,
        coalesce(b.statement_id, e.statement_id) as statement_id,
        coalesce(b.statement_count, 1) as statement_count,
        coalesce(b.opening_rows, 0) as opening_rows,
        coalesce(b.closing_rows, 0) as closing_rows,
        b.opening_balance,
        b.closing_balance,
        cast(coalesce(e.entries_total, 0) as decimal(18, 2)) as entries_total,
        coalesce(e.counted_entries, 0) as counted_entries,
        coalesce(e.reversal_entries, 0) as reversal_entries,
        coalesce(e.repeated_entries, 0) as repeated_entries,
        coalesce(e.not_booked_entries, 0) as not_booked_entries,
        b.opening_source_file,
        b.opening_source_row,
        b.closing_source_file,
        b.closing_source_row,
        b.source_files
    from statement_days as d
    left join balances as b
        on b.custody_account = d.custody_account and b.currency = d.currency and b.business_date = d.business_date
    left join entries as e
        on e.custody_account = d.custody_account and e.currency = d.currency and e.business_date = d.business_date
)

select
    j.custody_account,
    j.currency,
    j.business_date,
    j.statement_id,
    j.statement_count,
    j.opening_rows,
    j.closing_rows,
    j.opening_balance,
    j.entries_total,
    j.closing_balance,
    j.counted_entries,
    j.reversal_entries,
    j.repeated_entries,
    j.not_booked_entries,
    c.previous_business_date,
    -- NULL when the account had no statement on the previous business day (the completeness gate
    -- reports that) or on the first business day (balances brought forward from before the zone)
    p.closing_balance as previous_closing_balance,
    j.opening_source_file,
    j.opening_source_row,
    j.closing_source_file,
    j.closing_source_row,
    j.source_files
from joined as j
left join {{ ref('int_calendar__business_days') }} as c
    on c.business_date = j.business_date
left join joined as p
    on p.custody_account = j.custody_account
    and p.currency = j.currency
    and p.business_date = c.previous_business_date
