"""The API's request pipeline: the route classes every API route is declared with."""
