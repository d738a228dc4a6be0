"""Employee directory blueprint (docs/employee-directory.md): one contract, two stacks.
`stack.py` builds EmployeeDirectoryClassic (`classic_app.py` on `patterns/compute/web_tier.py`)
and EmployeeDirectoryServerless (`directory_api.py` behind the house static site); both keep
their data in `data.py`'s table and photo bucket and answer with lambda_src/employee_api."""
