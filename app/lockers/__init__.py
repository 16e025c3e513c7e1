"""Parcel lockers (快递柜): banks of compartments at places, each bank with its controller device;
couriers deposit, recipients collect by code at the locker or from the mini-program; a door that fails
takes its compartment out of service and opens a repair report; a full bank sends parcels to the
counter (驿站)."""
