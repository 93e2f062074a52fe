-- The CPU credit option of a burstable instance (standard | unlimited), set at launch
-- (the request's CreditSpecification or its type's default) and by
-- ModifyInstanceCreditSpecification. Null: the default of the instance's type.
alter table instance add column cpu_credits text;
